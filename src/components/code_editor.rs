//! A code editor for policy text: a monospace textarea with line numbers, the text coloured
//! beneath it (element names, attributes, values, comments, C# expressions and named values:
//! see [`super::highlight`]), lines with faults marked in the gutter, and a way to move the
//! cursor to a line and column.
//!
//! The colours are a `<pre>` under a textarea whose own text is transparent: the textarea
//! stays a plain form control (typing, selection, undo, screen readers all as usual).

use super::highlight::pieces;
use leptos::html::{Pre, Textarea};
use leptos::prelude::*;

/// Where to put the cursor: `(line, column)`, both from 1.
pub type Jump = (usize, usize);

/// The byte offset of `line`/`column` in `text` (clamped to the text).
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (index, content) in text.split('\n').enumerate() {
        if index + 1 == line {
            let within: usize = content
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf16)
                .sum();
            return offset + within;
        }
        offset += content.chars().map(char::len_utf16).sum::<usize>() + 1;
    }
    offset.saturating_sub(1)
}

#[component]
pub fn CodeEditor(
    /// The text, edited in place.
    text: RwSignal<String>,
    /// Lines (from 1) to mark as faulty.
    #[prop(into)]
    marked: Signal<Vec<usize>>,
    /// Set to move the cursor there (and focus the editor).
    jump: RwSignal<Option<Jump>>,
    /// The accessible name of the text area.
    label: &'static str,
) -> impl IntoView {
    let area = NodeRef::<Textarea>::new();
    let colours = NodeRef::<Pre>::new();
    let line_count = Memo::new(move |_| text.with(|t| t.split('\n').count()));
    Effect::new(move |_| {
        if let (Some((line, column)), Some(area)) = (jump.get(), area.get()) {
            // Offsets in a textarea count UTF-16 units.
            let at = offset_of(&text.get_untracked(), line, column) as u32;
            let _ = area.focus();
            let _ = area.set_selection_range(at, at);
        }
    });
    view! {
        <div class="code-editor">
            <pre class="gutter" aria-hidden="true">
                {move || {
                    let marked = marked.get();
                    (1..=line_count.get())
                        .map(|n| {
                            let faulty = marked.contains(&n);
                            view! { <span class:faulty=faulty data-line=n>{n}"\n"</span> }
                        })
                        .collect_view()
                }}
            </pre>
            <div class="code-area">
            <pre class="highlight" aria-hidden="true" node_ref=colours>
                {move || {
                    text.with(|t| {
                        let mut views = pieces(t)
                            .into_iter()
                            .map(|(kind, piece)| match kind.class() {
                                Some(class) => view! { <span class=class>{piece.to_owned()}</span> }.into_any(),
                                None => piece.to_owned().into_any(),
                            })
                            .collect::<Vec<_>>();
                        // A last empty line still takes its height, as in the textarea.
                        views.push("\n".into_any());
                        views
                    })
                }}
            </pre>
            <textarea
                node_ref=area
                aria-label=label
                spellcheck="false"
                autocomplete="off"
                wrap="off"
                rows=move || line_count.get() + 1
                prop:value=move || text.get()
                on:input=move |event| text.set(event_target_value(&event))
                on:scroll=move |_| {
                    // The colours follow the text when it scrolls sideways.
                    if let (Some(area), Some(colours)) = (area.get(), colours.get()) {
                        colours.set_scroll_left(area.scroll_left());
                    }
                }
                on:keydown=move |event: leptos::ev::KeyboardEvent| {
                    // Tab indents by two spaces instead of leaving the editor.
                    if event.key() == "Tab" && !event.shift_key()
                        && let Some(area) = area.get() {
                            event.prevent_default();
                            let start = area.selection_start().ok().flatten().unwrap_or(0);
                            let end = area.selection_end().ok().flatten().unwrap_or(start);
                            let _ = area.set_range_text_with_start_and_end(
                                "  ",
                                start,
                                end,
                            );
                            let _ = area.set_selection_range(start + 2, start + 2);
                            text.set(area.value());
                        }
                }
            ></textarea>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::offset_of;

    #[test]
    fn offsets_count_utf16_units_from_line_and_column() {
        let text = "ab\ncé\nx";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 2, 2), 4);
        assert_eq!(offset_of(text, 3, 1), 6);
        assert_eq!(offset_of(text, 9, 1), 7, "past the end: the end");
    }
}
