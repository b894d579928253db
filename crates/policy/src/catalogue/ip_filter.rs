//! `<ip-filter action="allow|forbid">` with `<address>` and `<address-range from to>`:
//! lets only (allow) or all but (forbid) the listed callers through; others get 403.

use super::{Compiler, Context, Flow, Outcome, Policy, Step};
use crate::error::{Diagnostic, Rejection};
use crate::xml::Element;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Allow,
    Forbid,
}

/// An inclusive range of addresses of one family; a single address is a range of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    from: IpAddr,
    to: IpAddr,
}

/// An address as a number in a space shared by both families (IPv4 maps into IPv6).
fn ordinal(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_ipv6_mapped().to_bits(),
            None => v6.to_bits(),
        },
    }
}

impl IpRange {
    pub fn new(from: IpAddr, to: IpAddr) -> Result<Self, String> {
        if from.is_ipv4() != to.is_ipv4() {
            return Err(format!(
                "{from} and {to} are of different address families."
            ));
        }
        if ordinal(from) > ordinal(to) {
            return Err(format!("the range starts at {from}, after its end {to}."));
        }
        Ok(Self { from, to })
    }

    pub fn single(ip: IpAddr) -> Self {
        Self { from: ip, to: ip }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let at = ordinal(ip);
        ordinal(self.from) <= at && at <= ordinal(self.to)
    }
}

#[derive(Debug)]
pub struct IpFilter {
    pub action: Action,
    pub ranges: Vec<IpRange>,
}

impl Policy for IpFilter {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let ip = cx.exchange.ip;
        let listed = self.ranges.iter().any(|range| range.contains(ip));
        let allowed = matches!(
            (self.action, listed),
            (Action::Allow, true) | (Action::Forbid, false)
        );
        cx.exchange.note(|| {
            let list = if self.action == Action::Allow {
                "allow"
            } else {
                "forbid"
            };
            let verdict = if allowed { "allowed" } else { "refused" };
            let on = if listed { "on" } else { "not on" };
            format!("{ip} {verdict} ({on} the {list} list)")
        });
        match (self.action, listed) {
            (Action::Allow, true) | (Action::Forbid, false) => Ok(Flow::Continue),
            _ => Err(Rejection::IpForbidden),
        }
    }
}

fn address(cx: &Compiler<'_>, element: &Element, text: &str) -> Result<IpAddr, Diagnostic> {
    text.trim().parse().map_err(|_| {
        let offset = element.text.as_ref().map_or(element.offset, |t| t.offset);
        cx.fault(offset, format!("'{}' is not an IP address.", text.trim()))
    })
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["action"])?;
    cx.only_children(element, &["address", "address-range"])?;
    let action_attribute = cx.required(element, "action")?;
    let action = match cx.literal(action_attribute)? {
        "allow" => Action::Allow,
        "forbid" => Action::Forbid,
        other => {
            return Err(cx.fault(
                action_attribute.offset,
                format!("action must be allow or forbid, not '{other}'."),
            ));
        }
    };
    let mut ranges = Vec::new();
    for child in &element.children {
        if child.name == "address" {
            cx.only_attributes(child, &[])?;
            ranges.push(IpRange::single(address(cx, child, child.text_value())?));
        } else {
            cx.only_attributes(child, &["from", "to"])?;
            let from_attribute = cx.required(child, "from")?;
            let to_attribute = cx.required(child, "to")?;
            let parse = |attribute: &crate::xml::Attribute| {
                attribute.value.trim().parse::<IpAddr>().map_err(|_| {
                    cx.fault(
                        attribute.offset,
                        format!("'{}' is not an IP address.", attribute.value.trim()),
                    )
                })
            };
            let range = IpRange::new(parse(from_attribute)?, parse(to_attribute)?)
                .map_err(|message| cx.fault(child.offset, message))?;
            ranges.push(range);
        }
    }
    if ranges.is_empty() && action == Action::Allow {
        return Err(cx.fault(
            element.offset,
            "an allow filter needs at least one <address> or <address-range>; without one it refuses everyone.",
        ));
    }
    Ok(Step::Now(
        "ip-filter",
        Box::new(IpFilter { action, ranges }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_contain_their_ends_and_map_ipv4_in_ipv6() {
        let range = IpRange::new("10.0.0.1".parse().unwrap(), "10.0.0.9".parse().unwrap()).unwrap();
        assert!(range.contains("10.0.0.1".parse().unwrap()));
        assert!(range.contains("10.0.0.9".parse().unwrap()));
        assert!(!range.contains("10.0.0.10".parse().unwrap()));
        assert!(range.contains("::ffff:10.0.0.5".parse().unwrap()));
        assert!(IpRange::new("10.0.0.9".parse().unwrap(), "10.0.0.1".parse().unwrap()).is_err());
        assert!(IpRange::new("10.0.0.1".parse().unwrap(), "::1".parse().unwrap()).is_err());
    }
}
