//! Building blocks shared by the pages: the signed-in frame, form fields, the copy button,
//! the notice that says what became of the last change.

mod api_tabs;
mod charts;
mod code_editor;
mod confirm;
mod copy_button;
mod errors;
mod field;
mod frame;
pub mod highlight;
mod interactive;
mod row_actions;
mod save_notice;

pub use api_tabs::ApiTabs;
pub use charts::{CallsChart, LatencyChart};
pub use code_editor::{CodeEditor, Jump};
pub use confirm::confirm;
pub use copy_button::CopyButton;
pub use errors::{FormError, LoadError, SessionEnded, error_text};
pub use field::{TextField, form_feedback};
pub use frame::{Protected, ServiceFrame, SignedIn};
pub use interactive::Interactive;
pub use row_actions::RowActions;
pub use save_notice::{SaveNotice, SaveState};
