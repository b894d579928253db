//! Scripts as policy documents write them, run against a small `context`.
//!
//! The expressions marked "APIM docs" are taken from Microsoft's "API Management policy
//! expressions" article (learn.microsoft.com/azure/api-management/api-management-policy-expressions,
//! MicrosoftDocs/azure-docs `articles/api-management/api-management-policy-expressions.md`)
//! and the policy reference pages named beside them; the rest exercise the language the
//! article allows.

use portcullis_script::syntax::TypeName;
use portcullis_script::value::Value;
use portcullis_script::{Host, Limits, Program, RunError};
use std::collections::HashMap;

/// `context` with a request (method, headers, a JSON body) and variables.
#[derive(Default)]
struct TestHost {
    method: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static str,
    variables: HashMap<&'static str, Value>,
}

impl Host for TestHost {
    fn member(&self, path: &str, member: &str) -> Option<Result<Value, String>> {
        Some(Ok(match (path, member) {
            ("context", "Request") => Value::Host("Request".into()),
            ("context", "Variables") => Value::Host("Variables".into()),
            ("Request", "Method") => Value::str(self.method),
            ("Request", "Headers") => Value::Host("Request.Headers".into()),
            ("Request", "Body") => Value::Host("Request.Body".into()),
            _ => return None,
        }))
    }

    fn call(
        &self,
        path: &str,
        method: &str,
        type_args: &[TypeName],
        args: &[Value],
    ) -> Option<Result<Value, String>> {
        let key = args.first().map(Value::to_text).unwrap_or_default();
        Some(Ok(match (path, method) {
            ("Request.Headers", "GetValueOrDefault") => self
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&key))
                .map(|(_, v)| Value::str(*v))
                .unwrap_or_else(|| args.get(1).cloned().unwrap_or(Value::Null)),
            ("Request.Headers", "ContainsKey") => Value::Bool(
                self.headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(&key)),
            ),
            ("Variables", "ContainsKey") => Value::Bool(self.variables.contains_key(key.as_str())),
            ("Variables", "GetValueOrDefault") => self
                .variables
                .get(key.as_str())
                .cloned()
                .unwrap_or_else(|| args.get(1).cloned().unwrap_or(Value::Null)),
            ("Request.Body", "As") => match type_args.first().map(|t| &*t.name) {
                Some("JObject") => match portcullis_script::json::Json::parse(self.body) {
                    Ok(json) => Value::Json(json),
                    Err(e) => return Some(Err(e)),
                },
                _ => Value::str(self.body),
            },
            _ => return None,
        }))
    }

    fn index(&self, path: &str, key: &Value) -> Option<Result<Value, String>> {
        match path {
            "Variables" => Some(
                self.variables
                    .get(key.to_text().as_str())
                    .cloned()
                    .ok_or_else(|| format!("The given key '{}' was not present.", key.to_text())),
            ),
            _ => None,
        }
    }

    fn items(&self, path: &str) -> Option<Vec<Value>> {
        match path {
            "Request.Headers" => Some(
                self.headers
                    .iter()
                    .map(|(n, v)| {
                        Value::Pair(std::sync::Arc::new((
                            Value::str(*n),
                            Value::list(vec![Value::str(*v)]),
                        )))
                    })
                    .collect(),
            ),
            _ => None,
        }
    }
}

fn host() -> TestHost {
    TestHost {
        method: "POST",
        headers: vec![
            ("Authorization", "Basic dXNlcjpzZWNyZXQ="),
            ("X-Tenant", "contoso"),
            ("x-custom-a", "1"),
            ("x-custom-b", "2"),
        ],
        body: r#"{"name":"Ada","items":[{"price":2.5,"qty":2},{"price":1,"qty":3}],"tags":["a","b"]}"#,
        variables: HashMap::from([("maxAge", Value::str("120")), ("count", Value::Int(3))]),
    }
}

fn expr(source: &str) -> String {
    run_expr(source).unwrap_or_else(|e| panic!("{source}: {e}"))
}

fn run_expr(source: &str) -> Result<String, RunError> {
    let program = Program::expression(source, 0).unwrap_or_else(|e| panic!("{source}: {e:?}"));
    program.run(&host(), Limits::default()).map(|v| v.to_text())
}

fn block(source: &str) -> String {
    let program = Program::block(source, 0).unwrap_or_else(|e| panic!("{source}: {e:?}"));
    program
        .run(&host(), Limits::default())
        .unwrap_or_else(|e| panic!("{source}: {e}"))
        .to_text()
}

#[test]
fn the_articles_single_expressions() {
    // APIM docs: the examples table of the policy expressions article.
    assert_eq!(expr("true"), "True");
    assert_eq!(expr("(1+1).ToString()"), "2");
    assert_eq!(expr("\"Hi There\".Length.ToString()"), "8");
    assert_eq!(
        expr(
            "context.Variables.ContainsKey(\"maxAge\") ? int.Parse((string)context.Variables[\"maxAge\"]) : 3600"
        ),
        "120"
    );
    assert_eq!(
        expr(
            "context.Request.Headers.GetValueOrDefault(\"Authorization\",\"scheme param\").Split(' ').Last()"
        ),
        "dXNlcjpzZWNyZXQ="
    );
}

#[test]
fn the_articles_statement_blocks() {
    // APIM docs: decoding the basic credentials of the Authorization header.
    assert_eq!(
        block(
            r#"
            string value = context.Request.Headers.GetValueOrDefault("Authorization", "");
            if (value != null && value.StartsWith("Basic ")) {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value.Substring(6)));
                return decoded.Split(':')[0];
            }
            return null;
            "#
        ),
        "user"
    );
    // set-body reference page: reading and reshaping a JSON body.
    assert_eq!(
        block(
            r#"
            var body = context.Request.Body.As<JObject>(preserveContent: true);
            var total = body["items"].Sum(i => (double)i["price"] * (int)i["qty"]);
            var result = new JObject();
            result["customer"] = body["name"];
            result.Add("total", total);
            result["tags"] = new JArray(body["tags"].Select(t => ((string)t).ToUpper()).ToList());
            return result.ToString(Formatting.None);
            "#
        ),
        r#"{"customer":"Ada","total":8.0,"tags":["A","B"]}"#
    );
}

#[test]
fn loops_locals_and_string_building() {
    assert_eq!(
        block(
            r#"
            var sb = new StringBuilder();
            for (int i = 0; i < 5; i++) {
                if (i == 3) continue;
                sb.Append(i).Append(',');
            }
            int n = 0;
            while (n < 10) { n += 3; }
            foreach (var h in context.Request.Headers) {
                if (h.Key.StartsWith("x-custom")) sb.Append(h.Key.Substring(9));
            }
            return sb.ToString() + n;
            "#
        ),
        "0,1,2,4,ab12"
    );
}

#[test]
fn linq_over_collections() {
    assert_eq!(
        expr(
            "new List<int> { 5, 3, 8, 1 }.Where(x => x > 2).OrderBy(x => x).Select(x => x * 10).Sum()"
        ),
        "160"
    );
    assert_eq!(
        expr("string.Join(\";\", new[] { \"b\", \"a\", \"b\" }.Distinct().OrderBy(s => s))"),
        "a;b"
    );
    assert_eq!(
        expr(
            "new Dictionary<string, int> { { \"a\", 1 }, [\"b\"] = 2 }.Where(p => p.Value > 1).First().Key"
        ),
        "b"
    );
    assert_eq!(
        expr("Enumerable.Range(1, 4).Aggregate((a, b) => a * b)"),
        "24"
    );
    assert_eq!(
        expr("new[] { 1, 2, 3 }.Any(x => x == 2) && new[] { 1, 2 }.All(x => x < 3)"),
        "True"
    );
}

#[test]
fn interpolation_operators_and_conversions() {
    assert_eq!(
        expr("$\"{context.Request.Method}:{1 + 2,3}:{42:D5}:{{x}}\""),
        "POST:  3:00042:{x}"
    );
    assert_eq!(expr("@\"C:\\path \"\"quoted\"\"\""), "C:\\path \"quoted\"");
    assert_eq!(expr("7 / 2 + 7 % 2 + 7.0 / 2"), "7.5");
    assert_eq!(expr("int.MaxValue + 1"), "-2147483648");
    assert_eq!(expr("(string)null ?? \"fallback\""), "fallback");
    assert_eq!(expr("((string)null)?.Length ?? -1"), "-1");
    assert_eq!(
        expr("1.5.ToString(\"F2\") + \" \" + 1234567.ToString(\"N0\")"),
        "1.50 1,234,567"
    );
    assert_eq!(expr("string.Format(\"{0}-{1:00}\", \"a\", 7)"), "a-07");
    assert_eq!(
        expr("Math.Max(2, 3) + Math.Round(2.5) + Math.Round(3.5)"),
        "9"
    );
    assert_eq!(
        expr("Convert.ToBase64String(Encoding.UTF8.GetBytes(\"user:pass\"))"),
        "dXNlcjpwYXNz"
    );
    assert_eq!(expr("Uri.EscapeDataString(\"a b&c\")"), "a%20b%26c");
    assert_eq!(expr("\"abc\" is string s ? s.ToUpper() : \"no\""), "ABC");
    assert_eq!(
        expr("(object)3 as string ?? \"not a string\""),
        "not a string"
    );
}

#[test]
fn out_parameters_switch_and_exceptions() {
    assert_eq!(
        block(
            r#"
            int parsed;
            if (!int.TryParse("42", out parsed)) { return "no"; }
            var d = new Dictionary<string, string> { { "k", "v" } };
            d.TryGetValue("k", out var found);
            switch (found) {
                case "v": return parsed + found;
                default: return "other";
            }
            "#
        ),
        "42v"
    );
    assert_eq!(
        block(r#"try { throw new Exception("boom"); } catch (Exception e) { return e.Message; }"#),
        "boom"
    );
}

#[test]
fn run_time_failures_name_the_fault() {
    for (source, fault) in [
        ("((string)null).Length", "Object reference not set"),
        ("1 / (2 - 2)", "divide by zero"),
        ("(int)context.Variables[\"missing\"]", "was not present"),
        ("new List<int>()[3]", "out of range"),
        ("JObject.Parse(\"[1]\")", "JObject"),
        ("int.Parse(\"x\")", "correct format"),
    ] {
        let error = run_expr(source).unwrap_err();
        assert!(error.to_string().contains(fault), "{source}: {error}");
        assert!(matches!(error, RunError::Failed { .. }), "{source}");
    }
}

#[test]
fn budgets_stop_scripts_that_never_end_or_grow_without_bound() {
    let limits = Limits {
        steps: 10_000,
        bytes: 1 << 20,
        depth: 64,
    };
    let run = |source: &str| Program::block(source, 0).unwrap().run(&host(), limits);
    let forever = run("while (true) { }").unwrap_err();
    assert!(
        matches!(forever, RunError::Budget(ref m) if m.contains("steps")),
        "{forever}"
    );
    let growing = run("var s = \"x\"; while (true) { s = s + s; }").unwrap_err();
    assert!(
        matches!(growing, RunError::Budget(ref m) if m.contains("bytes")),
        "{growing}"
    );
    // Nested lambdas recurse inside the budget's depth, never the thread's stack.
    let deep = format!("return {}1{};", "new[] { ".repeat(20), " }[0]".repeat(20));
    assert_eq!(run(&deep).unwrap().to_text(), "1");
}

#[test]
fn syntax_faults_are_placed() {
    let fault = Program::expression("context.Request.Method ==", 100).unwrap_err();
    assert_eq!(fault.offset, 125, "{}", fault.message);
    assert!(fault.message.contains("found the end"), "{}", fault.message);
    let fault = Program::block("var x = 1\nreturn x;", 0).unwrap_err();
    assert!(fault.message.contains("';'"), "{}", fault.message);
}

/// The deepest scripts the parser accepts run on the stack a tokio worker has (2 MiB), in a
/// debug build: the parser's nesting bound and the interpreter's depth budget keep every
/// recursion short of it.
#[test]
fn the_deepest_scripts_run_on_a_small_stack() {
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let nesting = portcullis_script::parser::MAX_NESTING;
            let mut deepest_accepted = Vec::new();
            for shape in [
                ("-(", ")"),
                ("new[] { ", " }[0]"),
                ("(1 + ", ")"),
                ("new List<int> { ", " }.Select(x => x).First()"),
            ] {
                // The deepest nesting of this shape that parses, and one deeper that is refused.
                let build = |levels: usize| {
                    format!("{}1{}", shape.0.repeat(levels), shape.1.repeat(levels))
                };
                let levels = (1..=nesting)
                    .rev()
                    .find(|&levels| Program::expression(&build(levels), 0).is_ok())
                    .expect("some nesting parses");
                assert!(Program::expression(&build(nesting + 1), 0).is_err());
                deepest_accepted.push(levels);
                let program = Program::expression(&build(levels), 0).unwrap();
                // It runs to a value or stops with a budget error: never a crash.
                let _ = program.run(&host(), Limits::default());
            }
            deepest_accepted
        })
        .unwrap();
    let deepest = worker.join().expect("no stack overflow");
    assert!(deepest.iter().all(|&levels| levels >= 20), "{deepest:?}");
}

/// A script can link values as deep as its budget allows; freeing them, writing them out and
/// comparing them never recurses once per level, and no value can be put inside itself.
#[test]
fn deep_and_cyclic_values_are_safe() {
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let limits = Limits {
                steps: 5_000_000,
                bytes: 256 << 20,
                depth: 256,
            };
            let run = |source: &str| Program::block(source, 0).unwrap().run(&host(), limits);
            // Building a chain costs a walk of what is inserted (the check for cycles), so a
            // script pays for deep structures; a thousand levels fit the budget.
            let deep = run(
                "var l = new List<object>(); for (int i = 0; i < 1000; i++) { l = new List<object> { l }; } return l;",
            )
            .unwrap();
            drop(deep);
            // Writing JSON out is refused past its depth bound.
            let written = run(
                "var o = new JObject(); for (int i = 0; i < 1000; i++) { var p = new JObject(); p[\"a\"] = o; o = p; } return o.ToString();",
            )
            .unwrap_err();
            assert!(written.to_string().contains("levels deep"), "{written}");
            // Anonymous objects nest too; writing one is bounded.
            let text = run(
                "object o = new { a = 1 }; for (int i = 0; i < 1000; i++) { o = new { a = o }; } return o.ToString();",
            )
            .unwrap();
            assert_eq!(text.to_text(), "{ a = { … } }");
            // A quadratic build is stopped by the budget, not by the stack.
            let quadratic = run(
                "var l = new List<object>(); for (int i = 0; i < 100000; i++) { l = new List<object> { l }; } return l;",
            )
            .unwrap_err();
            assert!(matches!(quadratic, RunError::Budget(_)), "{quadratic}");
            for cycle in [
                "var l = new List<object>(); l.Add(l);",
                "var a = new List<object>(); var b = new List<object> { a }; a.Add(b);",
                "var d = new Dictionary<string, object>(); d[\"self\"] = d;",
                "var o = new JObject(); o[\"self\"] = o;",
                "var o = new JObject(); var inner = new JObject(); o[\"x\"] = inner; inner[\"up\"] = o;",
                "var arr = new JArray(); arr.Add(arr);",
            ] {
                let refused = run(cycle).unwrap_err();
                assert!(refused.to_string().contains("contain itself"), "{cycle}: {refused}");
            }
        })
        .unwrap();
    worker.join().expect("no stack overflow");
}

#[test]
fn the_library_types_with_a_context() {
    // APIM docs: the Basic credentials of the Authorization header, with `AsBasic()`.
    assert_eq!(
        expr(
            "context.Request.Headers.GetValueOrDefault(\"Authorization\", \"\").AsBasic()?.Username"
        ),
        "user"
    );
    assert_eq!(
        expr("context.Request.Headers.GetValueOrDefault(\"X-Missing\")?.AsJwt() == null"),
        "True"
    );
    assert_eq!(
        block(
            r#"
            var m = Regex.Match(context.Request.Headers.GetValueOrDefault("X-Tenant", ""), "^(?<name>[a-z]+)$");
            var stamp = new DateTime(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc).AddMinutes(30);
            var key = Encoding.UTF8.GetBytes("secret");
            var signature = Convert.ToBase64String(new HMACSHA256(key).ComputeHash(Encoding.UTF8.GetBytes(m.Groups["name"].Value + stamp.ToString("o"))));
            return $"{m.Groups["name"].Value}|{stamp:yyyy-MM-ddTHH:mm:ssZ}|{signature.Length}|{new Uri(new Uri("https://backend/api/"), m.Value).AbsolutePath}";
            "#
        ),
        "contoso|2024-05-01T12:30:00Z|44|/api/contoso"
    );
}
