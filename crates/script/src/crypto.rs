//! Hashing and bytes: `SHA256.Create().ComputeHash(bytes)` (and `SHA1`, `SHA384`,
//! `SHA512`, `MD5`), `SHA256.HashData(bytes)`, `new HMACSHA256(key).ComputeHash(bytes)` (and
//! `HMACSHA1`, `HMACSHA384`, `HMACSHA512`, `HMACMD5`), `BitConverter.ToString(bytes)`,
//! `Convert.ToHexString` / `FromHexString`, and the bytes of `Encoding.UTF8` and
//! `Encoding.ASCII`.
//!
//! A `byte[]` is a list of `int`s from 0 to 255, as `Encoding.UTF8.GetBytes` has always
//! made them here; reading one costs a step per byte, making one its bytes of the budget.

use crate::error::RunError;
use crate::interp::Interpreter;
use crate::library::{arg, byte_list, int, list_value, string_value};
use crate::members::{fail, text_arg};
use crate::native::{Native, Outcome};
use crate::value::Value;
use sha2::Digest as _;
use std::sync::Arc;

/// The hash functions .NET's `HashAlgorithm` and `HMAC` classes compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashKind {
    /// The hash a class name stands for (`SHA256`, `SHA256Managed`, `MD5`…).
    fn of_hash_class(name: &str) -> Option<Self> {
        let base = name
            .strip_suffix("Managed")
            .or_else(|| name.strip_suffix("CryptoServiceProvider"))
            .unwrap_or(name);
        Some(match base {
            "MD5" => Self::Md5,
            "SHA1" => Self::Sha1,
            "SHA256" => Self::Sha256,
            "SHA384" => Self::Sha384,
            "SHA512" => Self::Sha512,
            _ => return None,
        })
    }

    /// The hash an HMAC class name stands for (`HMACSHA256`…).
    fn of_hmac_class(name: &str) -> Option<Self> {
        name.strip_prefix("HMAC").and_then(Self::of_hash_class)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha384 => "SHA384",
            Self::Sha512 => "SHA512",
        }
    }

    pub fn hmac_name(self) -> &'static str {
        match self {
            Self::Md5 => "HMACMD5",
            Self::Sha1 => "HMACSHA1",
            Self::Sha256 => "HMACSHA256",
            Self::Sha384 => "HMACSHA384",
            Self::Sha512 => "HMACSHA512",
        }
    }

    /// The digest size in bits (`HashSize`).
    fn bits(self) -> i32 {
        match self {
            Self::Md5 => 128,
            Self::Sha1 => 160,
            Self::Sha256 => 256,
            Self::Sha384 => 384,
            Self::Sha512 => 512,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Md5 => md5::Md5::digest(data).to_vec(),
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    fn mac(self, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        fn run<M: hmac::Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
            let mut mac = <M as hmac::Mac>::new_from_slice(key).ok()?;
            mac.update(data);
            Some(mac.finalize().into_bytes().to_vec())
        }
        match self {
            Self::Md5 => run::<hmac::Hmac<md5::Md5>>(key, data),
            Self::Sha1 => run::<hmac::Hmac<sha1::Sha1>>(key, data),
            Self::Sha256 => run::<hmac::Hmac<sha2::Sha256>>(key, data),
            Self::Sha384 => run::<hmac::Hmac<sha2::Sha384>>(key, data),
            Self::Sha512 => run::<hmac::Hmac<sha2::Sha512>>(key, data),
        }
    }
}

/// Bytes as a script's `byte[]`, charged to the budget.
pub fn bytes_value(interpreter: &mut Interpreter<'_>, bytes: &[u8]) -> Result<Value, RunError> {
    let items = bytes.iter().map(|b| Value::Int(i32::from(*b))).collect();
    list_value(interpreter, items)
}

/// `Encoding.UTF8.GetBytes` / `Encoding.ASCII.GetBytes`: ASCII writes `?` for every
/// character outside it, as .NET's encoder does.
pub fn encode(encoding: &str, text: &str) -> Vec<u8> {
    if encoding == "ASCII" {
        text.chars()
            .map(|c| u8::try_from(c).ok().filter(u8::is_ascii).unwrap_or(b'?'))
            .collect()
    } else {
        text.as_bytes().to_vec()
    }
}

/// `GetString`: UTF-8 with invalid sequences as U+FFFD; ASCII with bytes above 127 as `?`.
pub fn decode(encoding: &str, bytes: &[u8]) -> String {
    if encoding == "ASCII" {
        bytes
            .iter()
            .map(|&b| if b.is_ascii() { char::from(b) } else { '?' })
            .collect()
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// `BitConverter.ToString(bytes[, start[, length]])`: `AB-CD-EF`.
fn bit_converter_text(bytes: &[u8], args: &[Value], at: usize) -> Result<String, RunError> {
    let out_of_range = || {
        fail(
            at,
            "Index was out of range. Must be non-negative and less than the size of the collection.",
        )
    };
    let start = match args.get(1) {
        Some(start) => usize::try_from(int(start, at)?).map_err(|_| out_of_range())?,
        None => 0,
    };
    let length = match args.get(2) {
        Some(length) => usize::try_from(int(length, at)?).map_err(|_| out_of_range())?,
        None => bytes.len().saturating_sub(start),
    };
    let slice = bytes
        .get(start..start.saturating_add(length))
        .ok_or_else(out_of_range)?;
    Ok(slice
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join("-"))
}

/// `Convert.FromHexString`.
fn from_hex(text: &str, at: usize) -> Result<Vec<u8>, RunError> {
    let invalid = || {
        fail(
            at,
            "The input is not a valid hex string as it contains a non-hex character.",
        )
    };
    if !text.len().is_multiple_of(2) {
        return Err(fail(
            at,
            "The input is not a valid hex string as its length is not a multiple of 2.",
        ));
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).map_err(|_| invalid())?;
            u8::from_str_radix(digits, 16).map_err(|_| invalid())
        })
        .collect()
}

fn native(value: Native) -> Value {
    Value::Native(Arc::new(value))
}

/// `SHA256.Create()`, `SHA256.HashData(bytes)`, `HMACSHA256.HashData(key, bytes)`,
/// `BitConverter.ToString(bytes)`, `Convert.ToHexString(bytes)`; `None` for the rest.
pub fn static_call(
    interpreter: &mut Interpreter<'_>,
    ty: &str,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Outcome>, RunError> {
    let a = |i: usize| arg(args, i, name, at);
    let value = if let Some(kind) = HashKind::of_hash_class(ty) {
        match name {
            "Create" => native(Native::Hash(kind)),
            "HashData" => {
                let data = byte_list(interpreter, a(0)?.clone(), at)?;
                bytes_value(interpreter, &kind.digest(&data))?
            }
            _ => return Err(not_allowed(ty, name, at)),
        }
    } else if let Some(kind) = HashKind::of_hmac_class(ty) {
        match name {
            "HashData" => {
                let key = byte_list(interpreter, a(0)?.clone(), at)?;
                let data = byte_list(interpreter, a(1)?.clone(), at)?;
                let mac = kind.mac(&key, &data).unwrap_or_default();
                bytes_value(interpreter, &mac)?
            }
            _ => return Err(not_allowed(ty, name, at)),
        }
    } else {
        match (ty, name) {
            ("BitConverter", "ToString") => {
                let bytes = byte_list(interpreter, a(0)?.clone(), at)?;
                string_value(interpreter, bit_converter_text(&bytes, args, at)?)?
            }
            ("BitConverter", _) => return Err(not_allowed(ty, name, at)),
            ("Convert", "ToHexString" | "ToHexStringLower") => {
                let bytes = byte_list(interpreter, a(0)?.clone(), at)?;
                let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
                let hex = if name == "ToHexStringLower" {
                    hex.to_ascii_lowercase()
                } else {
                    hex
                };
                string_value(interpreter, hex)?
            }
            ("Convert", "FromHexString") => {
                let bytes = from_hex(&text_arg(a(0)?, at)?, at)?;
                bytes_value(interpreter, &bytes)?
            }
            _ => return Ok(None),
        }
    };
    Ok(Some((value, Vec::new())))
}

fn not_allowed(ty: &str, name: &str, at: usize) -> RunError {
    fail(
        at,
        format!("{ty}.{name} is not allowed in policy expressions."),
    )
}

/// `new HMACSHA256(key)`, `new SHA256Managed()`; `None` for other types.
pub fn construct(
    interpreter: &mut Interpreter<'_>,
    ty: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    if let Some(kind) = HashKind::of_hmac_class(ty) {
        let Some(key) = args.first() else {
            return Err(fail(
                at,
                format!("new {ty}() needs a key: policies sign with a key they know."),
            ));
        };
        let key = byte_list(interpreter, key.clone(), at)?;
        interpreter.budget.alloc(key.len())?;
        return Ok(Some(native(Native::Hmac(kind, key.into()))));
    }
    // `new SHA256()` is not .NET (the class is abstract); its implementations construct.
    if ty.ends_with("Managed") || ty.ends_with("CryptoServiceProvider") {
        return Ok(HashKind::of_hash_class(ty).map(|kind| native(Native::Hash(kind))));
    }
    Ok(None)
}

/// `ComputeHash(bytes[, offset, count])` of a hash or HMAC (`key` is `None` for a hash).
pub fn method(
    interpreter: &mut Interpreter<'_>,
    kind: HashKind,
    key: Option<&[u8]>,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    match name {
        "ComputeHash" => {
            let data = byte_list(interpreter, arg(args, 0, name, at)?.clone(), at)?;
            let data = match (args.get(1), args.get(2)) {
                (Some(offset), Some(count)) => {
                    let offset = usize::try_from(int(offset, at)?).unwrap_or(usize::MAX);
                    let count = usize::try_from(int(count, at)?).unwrap_or(usize::MAX);
                    data.get(offset..offset.saturating_add(count))
                        .ok_or_else(|| {
                            fail(at, "Offset and length were out of bounds for the array.")
                        })?
                        .to_vec()
                }
                _ => data,
            };
            let hash = match key {
                Some(key) => kind.mac(key, &data).unwrap_or_default(),
                None => kind.digest(&data),
            };
            bytes_value(interpreter, &hash).map(Some)
        }
        "Dispose" | "Clear" | "Initialize" => Ok(Some(Value::Null)),
        _ => Ok(None),
    }
}

/// `HashSize` and, for an HMAC, `Key`.
pub fn property(
    interpreter: &mut Interpreter<'_>,
    kind: HashKind,
    key: Option<&[u8]>,
    name: &str,
) -> Result<Option<Value>, RunError> {
    match (name, key) {
        ("HashSize", _) => Ok(Some(Value::Int(kind.bits()))),
        ("Key", Some(key)) => bytes_value(interpreter, key).map(Some),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{block, eval, eval_err};

    fn hex(expression: &str) -> String {
        eval(&format!(
            "BitConverter.ToString({expression}).Replace(\"-\", \"\").ToLower()"
        ))
    }

    #[test]
    fn hashes_of_known_texts() {
        let abc = "Encoding.UTF8.GetBytes(\"abc\")";
        assert_eq!(
            hex(&format!("SHA256.Create().ComputeHash({abc})")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&format!("SHA1.Create().ComputeHash({abc})")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&format!("MD5.Create().ComputeHash({abc})")),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex(&format!("SHA384.Create().ComputeHash({abc})")),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
        );
        assert_eq!(
            hex(&format!("SHA512.Create().ComputeHash({abc})")).len(),
            128
        );
        assert_eq!(
            hex(&format!("SHA256.HashData({abc})")),
            hex(&format!("new SHA256Managed().ComputeHash({abc})"))
        );
    }

    #[test]
    fn hmacs_as_rfc_4231_computes_them() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let call = |class: &str| {
            format!(
                "new {class}(Encoding.UTF8.GetBytes(\"Jefe\")).ComputeHash(Encoding.UTF8.GetBytes(\"what do ya want for nothing?\"))"
            )
        };
        assert_eq!(
            hex(&call("HMACSHA256")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(hex(&call("HMACMD5")), "750c783e6ab0b503eaa86e310a5db738");
        assert_eq!(
            hex(&call("HMACSHA1")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(hex(&call("HMACSHA384")).len(), 96);
        assert_eq!(
            hex(&call("HMACSHA512")),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
        // A signature as policies compute one: Base64 of the HMAC.
        assert_eq!(
            block(
                r#"
                var hmac = new HMACSHA256(Convert.FromBase64String("c2VjcmV0"));
                return Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes("GET\n/path")));
                "#
            )
            .len(),
            44
        );
        assert!(eval_err("new HMACSHA256()").contains("needs a key"));
    }

    #[test]
    fn bytes_and_encodings() {
        assert_eq!(
            eval("BitConverter.ToString(new byte[] { 1, 171, 255 })"),
            "01-AB-FF"
        );
        assert_eq!(
            eval("BitConverter.ToString(new byte[] { 1, 171, 255 }, 1)"),
            "AB-FF"
        );
        assert_eq!(eval("Convert.ToHexString(new byte[] { 1, 171 })"), "01AB");
        assert_eq!(eval("Convert.FromHexString(\"01ab\")[1]"), "171");
        assert_eq!(eval("Encoding.ASCII.GetBytes(\"é!\")[0]"), "63");
        assert_eq!(eval("Encoding.UTF8.GetBytes(\"é\").Length"), "2");
        assert_eq!(
            eval("Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(\"héllo\"))"),
            "héllo"
        );
        assert_eq!(
            eval("Encoding.ASCII.GetString(new byte[] { 72, 200 })"),
            "H?"
        );
        assert_eq!(
            eval("Convert.ToBase64String(Encoding.UTF8.GetBytes(\"user:pass\"))"),
            "dXNlcjpwYXNz"
        );
        assert_eq!(eval("Encoding.UTF8.GetBytes(\"x\") is byte[]"), "True");
        assert_eq!(eval("SHA256.Create() is SHA256"), "True");
    }
}
