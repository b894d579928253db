//! `<authentication-basic username="…" password="…"/>`: the backend gets
//! `Authorization: Basic base64(username:password)`, replacing what the caller sent. Both
//! attributes may use expressions and `{{named values}}` (keep the password in a secret one).

use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::xml::Element;
use base64::Engine as _;
use http::HeaderValue;

#[derive(Debug)]
pub struct AuthenticationBasic {
    username: Template,
    password: Template,
}

impl Policy for AuthenticationBasic {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let fail = |e| expression_failed("authentication-basic", e);
        let username = self
            .username
            .render(&*cx.exchange)
            .map_err(fail)?
            .into_owned();
        let password = self
            .password
            .render(&*cx.exchange)
            .map_err(fail)?
            .into_owned();
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        let value = HeaderValue::from_str(&format!("Basic {credentials}"))
            .map_err(|e| expression_failed("authentication-basic", e.to_string()))?;
        cx.exchange
            .request
            .headers
            .insert(http::header::AUTHORIZATION, value);
        cx.exchange
            .note(|| format!("Authorization: Basic credentials of {username}"));
        Ok(Flow::Continue)
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["username", "password"])?;
    cx.only_children(element, &[])?;
    let username = cx.template(cx.required(element, "username")?)?;
    if let Template::Literal(text) = &username
        && text.contains(':')
    {
        return Err(cx.fault(
            element.offset,
            "a basic-authentication username cannot contain ':'.",
        ));
    }
    Ok(Step::Now(
        "authentication-basic",
        Box::new(AuthenticationBasic {
            username,
            password: cx.template(cx.required(element, "password")?)?,
        }),
    ))
}
