//! Editing policy XML as text in the browser: the snippet list, inserting a policy into the
//! right section, and the two policy forms that write the same XML a user could type.
//!
//! This runs in the browser too, so it is plain string work; the server compiles whatever
//! comes out and reports faults at their line, like for hand-written text.

use std::net::IpAddr;

/// A policy the editor can insert: its label, the section it belongs in, and its XML.
pub struct Snippet {
    pub label: &'static str,
    pub section: &'static str,
    pub xml: &'static str,
}

pub const SNIPPETS: &[Snippet] = &[
    Snippet {
        label: "Restrict caller IPs",
        section: "inbound",
        xml: "<ip-filter action=\"allow\">\n  <address>127.0.0.1</address>\n  <address-range from=\"10.0.0.0\" to=\"10.255.255.255\" />\n</ip-filter>",
    },
    Snippet {
        label: "Limit call rate per key",
        section: "inbound",
        xml: "<rate-limit-by-key calls=\"10\" renewal-period=\"60\" counter-key=\"@(context.Request.IpAddress)\" />",
    },
    Snippet {
        label: "Limit call rate per subscription",
        section: "inbound",
        xml: "<rate-limit calls=\"10\" renewal-period=\"60\" />",
    },
    Snippet {
        label: "Set usage quota",
        section: "inbound",
        xml: "<quota-by-key calls=\"10000\" renewal-period=\"604800\" counter-key=\"@(context.Subscription.Id)\" />",
    },
    Snippet {
        label: "Set HTTP header",
        section: "inbound",
        xml: "<set-header name=\"x-example\" exists-action=\"override\">\n  <value>value</value>\n</set-header>",
    },
    Snippet {
        label: "Set query parameter",
        section: "inbound",
        xml: "<set-query-parameter name=\"api-version\" exists-action=\"override\">\n  <value>2024-01-01</value>\n</set-query-parameter>",
    },
    Snippet {
        label: "Rewrite URL",
        section: "inbound",
        xml: "<rewrite-uri template=\"/new/path\" copy-unmatched-params=\"true\" />",
    },
    Snippet {
        label: "Set backend service",
        section: "inbound",
        xml: "<set-backend-service base-url=\"https://backend.example.com/api\" />",
    },
    Snippet {
        label: "Mock response",
        section: "inbound",
        xml: "<mock-response status-code=\"200\" content-type=\"application/json\" />",
    },
    Snippet {
        label: "Allow cross-domain calls",
        section: "inbound",
        xml: "<cors allow-credentials=\"false\">\n  <allowed-origins>\n    <origin>*</origin>\n  </allowed-origins>\n  <allowed-methods>\n    <method>GET</method>\n    <method>POST</method>\n  </allowed-methods>\n  <allowed-headers>\n    <header>*</header>\n  </allowed-headers>\n</cors>",
    },
    Snippet {
        label: "Authenticate with Basic",
        section: "inbound",
        xml: "<authentication-basic username=\"backend-user\" password=\"{{BackendPassword}}\" />",
    },
    Snippet {
        label: "Find and replace string in body",
        section: "outbound",
        xml: "<find-and-replace from=\"old text\" to=\"new text\" />",
    },
    Snippet {
        label: "Transform JSON body with C#",
        section: "outbound",
        xml: "<set-body>@{\n  var body = context.Response.Body.As<JObject>(preserveContent: true);\n  body[\"servedBy\"] = \"portcullis\";\n  return body.ToString();\n}</set-body>",
    },
    Snippet {
        label: "Send request",
        section: "inbound",
        xml: "<send-request mode=\"new\" response-variable-name=\"lookup\" timeout=\"20\" ignore-error=\"false\">\n  <set-url>https://lookup.example.com/items</set-url>\n  <set-method>GET</set-method>\n  <set-header name=\"accept\" exists-action=\"override\">\n    <value>application/json</value>\n  </set-header>\n</send-request>\n<set-header name=\"x-lookup-status\" exists-action=\"override\">\n  <value>@(((IResponse)context.Variables[\"lookup\"]).StatusCode.ToString())</value>\n</set-header>",
    },
    Snippet {
        label: "Call two services at once (wait)",
        section: "inbound",
        xml: "<wait for=\"all\">\n  <send-request mode=\"new\" response-variable-name=\"first\" timeout=\"20\">\n    <set-url>https://first.example.com/items</set-url>\n  </send-request>\n  <send-request mode=\"new\" response-variable-name=\"second\" timeout=\"20\">\n    <set-url>https://second.example.com/items</set-url>\n  </send-request>\n</wait>",
    },
    Snippet {
        label: "Send one way request",
        section: "outbound",
        xml: "<send-one-way-request mode=\"new\" timeout=\"10\">\n  <set-url>https://hooks.example.com/notify</set-url>\n  <set-method>POST</set-method>\n  <set-body>@(\"called \" + context.Request.Url.Path)</set-body>\n</send-one-way-request>",
    },
    Snippet {
        label: "Look up value in cache",
        section: "inbound",
        xml: "<cache-lookup-value key=\"@(\"tenant-\" + context.Subscription.Id)\" variable-name=\"tenant\" default-value=\"unknown\" />",
    },
    Snippet {
        label: "Store value in cache",
        section: "inbound",
        xml: "<cache-store-value key=\"@(\"tenant-\" + context.Subscription.Id)\" value=\"@((string)context.Variables[\"tenant\"])\" duration=\"300\" />",
    },
    Snippet {
        label: "Remove value from cache",
        section: "inbound",
        xml: "<cache-remove-value key=\"@(\"tenant-\" + context.Subscription.Id)\" />",
    },
    Snippet {
        label: "Convert XML to JSON",
        section: "outbound",
        xml: "<xml-to-json kind=\"direct\" apply=\"content-type-xml\" consider-accept-header=\"false\" />",
    },
    Snippet {
        label: "Convert JSON to XML",
        section: "outbound",
        xml: "<json-to-xml apply=\"content-type-json\" consider-accept-header=\"false\" />",
    },
    Snippet {
        label: "Transform JSON body with Liquid",
        section: "outbound",
        xml: "<set-header name=\"Content-Type\" exists-action=\"override\">\n  <value>application/json</value>\n</set-header>\n<set-body template=\"liquid\">\n{\n  \"id\": \"{{body.id}}\",\n  \"names\": [{% for item in body.items %}\"{{ item.name | Upcase }}\"{% unless forloop.last %}, {% endunless %}{% endfor %}]\n}\n</set-body>",
    },
    Snippet {
        label: "Look up response in cache",
        section: "inbound",
        xml: "<cache-lookup vary-by-developer=\"false\" vary-by-developer-groups=\"false\" downstream-caching-type=\"none\">\n  <vary-by-header>Accept</vary-by-header>\n  <vary-by-query-parameter>version</vary-by-query-parameter>\n</cache-lookup>",
    },
    Snippet {
        label: "Store response in cache",
        section: "outbound",
        xml: "<cache-store duration=\"300\" />",
    },
    Snippet {
        label: "Validate JWT (OpenID Connect)",
        section: "inbound",
        xml: "<validate-jwt header-name=\"Authorization\" failed-validation-httpcode=\"401\" failed-validation-error-message=\"Unauthorized. Access token is missing or invalid.\">\n  <openid-config url=\"https://login.example.com/.well-known/openid-configuration\" />\n  <audiences>\n    <audience>api://my-api</audience>\n  </audiences>\n</validate-jwt>",
    },
    Snippet {
        label: "Validate Microsoft Entra ID token",
        section: "inbound",
        xml: "<validate-azure-ad-token tenant-id=\"contoso.onmicrosoft.com\">\n  <client-application-ids>\n    <application-id>00000000-0000-0000-0000-000000000000</application-id>\n  </client-application-ids>\n</validate-azure-ad-token>",
    },
    Snippet {
        label: "Authenticate with client certificate",
        section: "inbound",
        xml: "<authentication-certificate certificate-id=\"client-cert\" />",
    },
    Snippet {
        label: "Authenticate with managed identity",
        section: "inbound",
        xml: "<authentication-managed-identity resource=\"https://management.azure.com/\" />",
    },
    Snippet {
        label: "Limit call rate per operation",
        section: "inbound",
        xml: "<rate-limit calls=\"100\" renewal-period=\"60\">\n  <api name=\"my-api\" calls=\"50\" renewal-period=\"60\">\n    <operation name=\"my-operation\" calls=\"10\" renewal-period=\"60\" />\n  </api>\n</rate-limit>",
    },
    Snippet {
        label: "Set bandwidth quota per key",
        section: "inbound",
        xml: "<quota-by-key calls=\"10000\" bandwidth=\"40000\" renewal-period=\"3600\" counter-key=\"@(context.Request.IpAddress)\" />",
    },
    Snippet {
        label: "Trace",
        section: "inbound",
        xml: "<trace source=\"policy\" severity=\"information\">\n  <message>@(\"called by \" + context.Request.IpAddress)</message>\n</trace>",
    },
    Snippet {
        label: "Return response",
        section: "inbound",
        xml: "<return-response>\n  <set-status code=\"200\" reason=\"OK\" />\n  <set-header name=\"content-type\" exists-action=\"override\">\n    <value>application/json</value>\n  </set-header>\n  <set-body>{\"status\": \"ok\"}</set-body>\n</return-response>",
    },
];

/// The whitespace a line starts with.
fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// Start of the line that holds byte `at`.
fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

fn reindent(snippet: &str, indent: &str) -> String {
    snippet
        .lines()
        .map(|line| format!("{indent}{line}\n"))
        .collect()
}

/// Finds `<name` as a whole tag name at or after `from`.
fn find_tag(xml: &str, name: &str, from: usize) -> Option<usize> {
    let needle = format!("<{name}");
    let mut search = from;
    while let Some(found) = xml.get(search..)?.find(&needle) {
        let at = search + found;
        let after = xml[at + needle.len()..].chars().next();
        if matches!(after, Some(c) if c.is_whitespace() || c == '>' || c == '/') {
            return Some(at);
        }
        search = at + needle.len();
    }
    None
}

/// The byte range of a section's content: after `<section …>` up to `</section>`; `None`
/// when the section is missing or self-closed.
fn section_body(xml: &str, section: &str) -> Option<(usize, usize)> {
    let open = find_tag(xml, section, 0)?;
    let open_end = open + xml[open..].find('>')?;
    if xml[..open_end].ends_with('/') {
        return None;
    }
    let close = open_end + xml[open_end..].find(&format!("</{section}>"))?;
    Some((open_end + 1, close))
}

/// Adds `snippet` at the end of `section`, indented to fit; creates the section if it is
/// missing or empty (`<inbound />`).
pub fn insert_into_section(xml: &str, section: &str, snippet: &str) -> String {
    if let Some((_, close)) = section_body(xml, section) {
        let start = line_start(xml, close);
        let closing_indent = indent_of(&xml[start..]);
        let child_indent = format!("{closing_indent}  ");
        return if xml[start..close].trim().is_empty() {
            // `</inbound>` on its own line: the snippet goes on the lines before it.
            format!(
                "{}{}{}",
                &xml[..start],
                reindent(snippet, &child_indent),
                &xml[start..]
            )
        } else {
            // `<inbound><base /></inbound>` on one line: break it open.
            format!(
                "{}\n{}{closing_indent}{}",
                &xml[..close],
                reindent(snippet, &child_indent),
                &xml[close..]
            )
        };
    }
    if let Some(open) = find_tag(xml, section, 0) {
        let tag_end = xml[open..].find('>').map(|i| open + i);
        if let Some(end) = tag_end.filter(|&i| xml[..i].ends_with('/')) {
            let end = end + 1;
            let indent = indent_of(&xml[line_start(xml, open)..]).to_owned();
            return format!(
                "{}<{section}>\n{}{indent}</{section}>{}",
                &xml[..open],
                reindent(snippet, &format!("{indent}  ")),
                &xml[end..]
            );
        }
    }
    match xml.rfind("</policies>") {
        Some(close) => {
            let start = line_start(xml, close);
            let indent = format!("{}  ", indent_of(&xml[start..]));
            let at = if xml[start..close].trim().is_empty() {
                start
            } else {
                close
            };
            format!(
                "{}{indent}<{section}>\n{}{indent}</{section}>\n{}",
                &xml[..at],
                reindent(snippet, &format!("{indent}  ")),
                &xml[at..]
            )
        }
        None => format!("{xml}\n{snippet}\n"),
    }
}

/// Replaces the first `<element …>` in `section` with `snippet`, or inserts it when there
/// is none: what the policy forms do, so that saving a form twice does not add two filters.
pub fn replace_or_insert(xml: &str, section: &str, element: &str, snippet: &str) -> String {
    if let Some((body_start, body_end)) = section_body(xml, section)
        && let Some(open) = find_tag(xml, element, body_start).filter(|&at| at < body_end)
    {
        let tag_end = open + xml[open..].find('>').unwrap_or(0);
        let end = if xml[..tag_end].ends_with('/') {
            Some(tag_end + 1)
        } else {
            let close = format!("</{element}>");
            xml[tag_end..]
                .find(&close)
                .map(|i| tag_end + i + close.len())
        };
        if let Some(end) = end {
            let start = line_start(xml, open);
            let indent = indent_of(&xml[start..]).to_owned();
            let rest = xml[end..].strip_prefix('\n').unwrap_or(&xml[end..]);
            return format!("{}{}{}", &xml[..start], reindent(snippet, &indent), rest);
        }
    }
    insert_into_section(xml, section, snippet)
}

fn escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// Builds an `ip-filter` from the form: one address (`10.0.0.1`) or range
/// (`10.0.0.1-10.0.0.255`) per line. Faults name the line of the entry.
pub fn ip_filter_xml(action: &str, entries: &str) -> Result<String, String> {
    if action != "allow" && action != "forbid" {
        return Err("Choose allow or forbid.".into());
    }
    let mut children = String::new();
    let mut count = 0;
    for (index, raw) in entries.lines().enumerate() {
        let entry = raw.trim();
        if entry.is_empty() {
            continue;
        }
        let line = index + 1;
        let parse = |text: &str| {
            text.trim()
                .parse::<IpAddr>()
                .map_err(|_| format!("Line {line}: '{}' is not an IP address.", text.trim()))
        };
        match entry.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (parse(from)?, parse(to)?);
                if from.is_ipv4() != to.is_ipv4() {
                    return Err(format!(
                        "Line {line}: both ends of a range must be IPv4 or both IPv6."
                    ));
                }
                if from > to {
                    return Err(format!("Line {line}: the range starts after it ends."));
                }
                children.push_str(&format!(
                    "  <address-range from=\"{from}\" to=\"{to}\" />\n"
                ));
            }
            None => children.push_str(&format!("  <address>{}</address>\n", parse(entry)?)),
        }
        count += 1;
    }
    if count == 0 {
        return Err("List at least one address or range.".into());
    }
    Ok(format!(
        "<ip-filter action=\"{action}\">\n{children}</ip-filter>"
    ))
}

/// The counter keys the rate-limit form offers.
pub const COUNTER_KEYS: &[(&str, &str, &str)] = &[
    ("ip", "Caller IP address", "@(context.Request.IpAddress)"),
    ("subscription", "Subscription", "@(context.Subscription.Id)"),
    ("custom", "Custom expression", ""),
];

/// Builds a `rate-limit-by-key` from the form. Faults are `(field, message)`.
pub fn rate_limit_xml(
    calls: &str,
    period: &str,
    key: &str,
    custom: &str,
) -> Result<String, (String, String)> {
    let calls: u64 = calls
        .trim()
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            (
                "calls".to_owned(),
                "Enter a whole number of calls, 1 or more.".to_owned(),
            )
        })?;
    let period: u64 = period
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=86_400).contains(n))
        .ok_or_else(|| {
            (
                "period".to_owned(),
                "Enter the renewal period in seconds, from 1 to 86400.".to_owned(),
            )
        })?;
    let counter_key = match COUNTER_KEYS.iter().find(|(value, ..)| *value == key) {
        Some((_, _, expression)) if !expression.is_empty() => (*expression).to_owned(),
        _ => {
            let custom = custom.trim();
            if !(custom.starts_with("@(") && custom.ends_with(')')) {
                return Err(("custom".to_owned(), "Write an expression such as @(context.Request.Headers.GetValueOrDefault(\"x-client\", \"\")).".to_owned()));
            }
            custom.to_owned()
        }
    };
    Ok(format!(
        "<rate-limit-by-key calls=\"{calls}\" renewal-period=\"{period}\" counter-key=\"{}\" />",
        escape(&counter_key)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = "<policies>\n  <inbound>\n    <base />\n  </inbound>\n  <backend>\n    <base />\n  </backend>\n  <outbound />\n</policies>";

    /// Every snippet the editor offers compiles where it is inserted.
    #[cfg(feature = "ssr")]
    #[test]
    fn every_snippet_compiles_in_its_section() {
        let scope = portcullis_domain::PolicyScope::Api(
            portcullis_domain::ApiName::parse("echo").expect("a name"),
        );
        // The certificate the client-certificate snippet names, as an upload would give it.
        let mut library = portcullis_policy::library::ServiceLibrary::default();
        library.certificates.insert(
            "client-cert".to_owned(),
            portcullis_policy::library::CertificateInfo {
                id: "client-cert".to_owned(),
                thumbprint: "0".repeat(40),
                public_key: portcullis_policy::library::PublicKey::Rsa(Vec::new()),
                has_private_key: true,
            },
        );
        for snippet in SNIPPETS {
            let xml = insert_into_section(DEFAULT, snippet.section, snippet.xml);
            let compiled = portcullis_domain::policy::compile_in(
                &xml,
                &scope,
                &portcullis_domain::NamedValueMap::new(),
                &library,
            );
            if let Err(faults) = compiled {
                panic!("{}: {faults}\n{xml}", snippet.label);
            }
        }
    }

    #[test]
    fn inserts_at_the_end_of_the_section_indented() {
        let out = insert_into_section(DEFAULT, "inbound", "<a>\n  <b />\n</a>");
        assert!(
            out.contains("    <base />\n    <a>\n      <b />\n    </a>\n  </inbound>"),
            "{out}"
        );
        let out = insert_into_section(DEFAULT, "outbound", "<x />");
        assert!(
            out.contains("  <outbound>\n    <x />\n  </outbound>"),
            "{out}"
        );
        let out = insert_into_section(DEFAULT, "on-error", "<x />");
        assert!(
            out.contains("  <on-error>\n    <x />\n  </on-error>\n</policies>"),
            "{out}"
        );
        let out = insert_into_section(
            "<policies><inbound><base /></inbound></policies>",
            "inbound",
            "<x />",
        );
        assert!(out.contains("<base />\n  <x />\n</inbound>"), "{out}");
    }

    #[test]
    fn forms_replace_their_own_policy() {
        let once = replace_or_insert(
            DEFAULT,
            "inbound",
            "ip-filter",
            "<ip-filter action=\"allow\">\n  <address>1.2.3.4</address>\n</ip-filter>",
        );
        let twice = replace_or_insert(
            &once,
            "inbound",
            "ip-filter",
            "<ip-filter action=\"forbid\">\n  <address>5.6.7.8</address>\n</ip-filter>",
        );
        assert_eq!(twice.matches("<ip-filter").count(), 1, "{twice}");
        assert!(
            twice.contains("forbid") && !twice.contains("1.2.3.4"),
            "{twice}"
        );
        let limited = replace_or_insert(
            &twice,
            "inbound",
            "rate-limit-by-key",
            "<rate-limit-by-key calls=\"3\" />",
        );
        let relimited = replace_or_insert(
            &limited,
            "inbound",
            "rate-limit-by-key",
            "<rate-limit-by-key calls=\"5\" />",
        );
        assert!(
            relimited.contains("calls=\"5\"") && !relimited.contains("calls=\"3\""),
            "{relimited}"
        );
        assert!(relimited.contains("<ip-filter"), "{relimited}");
    }

    #[test]
    fn ip_filter_form_checks_each_line() {
        let xml = ip_filter_xml("forbid", "127.0.0.1\n\n10.0.0.1 - 10.0.0.9\n").unwrap();
        assert_eq!(
            xml,
            "<ip-filter action=\"forbid\">\n  <address>127.0.0.1</address>\n  <address-range from=\"10.0.0.1\" to=\"10.0.0.9\" />\n</ip-filter>"
        );
        assert_eq!(
            ip_filter_xml("allow", "1.2.3.4\nnope").unwrap_err(),
            "Line 2: 'nope' is not an IP address."
        );
        assert!(ip_filter_xml("allow", "10.0.0.9-10.0.0.1").is_err());
        assert!(ip_filter_xml("allow", "").is_err());
    }

    #[test]
    fn rate_limit_form_writes_the_counter_key() {
        assert_eq!(
            rate_limit_xml("3", "60", "ip", "").unwrap(),
            "<rate-limit-by-key calls=\"3\" renewal-period=\"60\" counter-key=\"@(context.Request.IpAddress)\" />"
        );
        let custom = rate_limit_xml(
            "5",
            "10",
            "custom",
            "@(context.Request.Headers.GetValueOrDefault(\"x-client\", \"\"))",
        )
        .unwrap();
        assert!(custom.contains("&quot;x-client&quot;"), "{custom}");
        assert_eq!(rate_limit_xml("0", "60", "ip", "").unwrap_err().0, "calls");
        assert_eq!(rate_limit_xml("3", "x", "ip", "").unwrap_err().0, "period");
        assert_eq!(
            rate_limit_xml("3", "60", "custom", "plain").unwrap_err().0,
            "custom"
        );
    }
}
