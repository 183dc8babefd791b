//! Mappings: jq programs (run by jaq) that turn our canonical documents into a system's
//! requests, its answers into our results, and inbound payloads into canonical orders, stock
//! events or shipments. A program is compiled once, when it is loaded; a program that does not
//! compile is refused with the line and column of the mistake. A run gives exactly one value,
//! or an error carrying jq's message, which becomes a `MAPPING_FAILED` exception.

use std::path::Path;

use jaq_core::compile::Undefined;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Native, Vars, data, unwrap_valr};
use jaq_json::Val;
use serde_json::Value;

type Filter = jaq_core::compile::Filter<Native<data::JustLut<Val>>>;

/// A compiled mapping. Cheap to share between tasks.
pub struct Mapping {
    /// Where it came from, for messages (a file's path).
    source: String,
    filter: Filter,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mapping({})", self.source)
    }
}

/// Why a mapping could not be loaded or did not give a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// The file could not be read.
    #[error("cannot read the mapping {mapping}: {reason}")]
    Read {
        /// The file.
        mapping: String,
        /// Why.
        reason: String,
    },
    /// The program does not compile.
    #[error("the mapping {mapping} does not compile: {reason}")]
    Compile {
        /// The file.
        mapping: String,
        /// Where and what, e.g. `line 3, column 7: expected term`.
        reason: String,
    },
    /// The program failed on this input (jq's own message, e.g. from `error(…)`).
    #[error("the mapping {mapping} failed: {reason}")]
    Failed {
        /// The file.
        mapping: String,
        /// jq's message.
        reason: String,
    },
    /// The program gave no value, or several, where one is needed.
    #[error("the mapping {mapping} gave {count} values; a mapping gives exactly one")]
    NotOne {
        /// The file.
        mapping: String,
        /// How many it gave.
        count: usize,
    },
}

/// `line L, column C` of the byte at `at` in `code`.
fn position(code: &str, at: usize) -> String {
    let before = &code[..at.min(code.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
    format!("line {line}, column {column}")
}

/// Where `rest` (a slice of `code`) starts in it.
fn offset(code: &str, rest: &str) -> usize {
    (rest.as_ptr() as usize)
        .saturating_sub(code.as_ptr() as usize)
        .min(code.len())
}

impl Mapping {
    /// Reads and compiles the program in `path`.
    pub fn load(path: &Path) -> Result<Self, MappingError> {
        let source = path.display().to_string();
        let code = std::fs::read_to_string(path).map_err(|e| MappingError::Read {
            mapping: source.clone(),
            reason: e.kind().to_string(),
        })?;
        Self::compile(&source, &code)
    }

    /// Compiles `code`; `source` names it in messages.
    pub fn compile(source: &str, code: &str) -> Result<Self, MappingError> {
        let failed = |reason: String| MappingError::Compile {
            mapping: source.to_string(),
            reason,
        };
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let program = File { code, path: () };
        let modules = Loader::new(defs).load(&arena, program).map_err(|errors| {
            let mut reasons = Vec::new();
            for (_, error) in errors {
                match error {
                    jaq_core::load::Error::Io(io) => {
                        reasons.extend(io.into_iter().map(|(path, why)| format!("{path}: {why}")))
                    }
                    jaq_core::load::Error::Lex(lex) => {
                        reasons.extend(lex.into_iter().map(|(expected, at)| {
                            format!(
                                "{}: expected {}",
                                position(code, offset(code, at)),
                                expected.as_str()
                            )
                        }))
                    }
                    jaq_core::load::Error::Parse(parse) => {
                        reasons.extend(parse.into_iter().map(|(expected, at)| {
                            format!(
                                "{}: expected {}",
                                position(code, offset(code, at)),
                                expected.as_str()
                            )
                        }))
                    }
                }
            }
            failed(reasons.join("; "))
        })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                let reasons: Vec<String> = errors
                    .into_iter()
                    .flat_map(|(_, undefined)| undefined)
                    .map(|(name, what)| {
                        let what = match what {
                            Undefined::Filter(0) => "filter".to_string(),
                            Undefined::Filter(n) => format!("filter of {n} arguments"),
                            other => format!("{other:?}").to_lowercase(),
                        };
                        let at = position(code, offset(code, name));
                        format!("{at}: undefined {what} `{name}`")
                    })
                    .collect();
                failed(reasons.join("; "))
            })?;
        Ok(Self {
            source: source.to_string(),
            filter,
        })
    }

    /// Runs the mapping on `input`: its one value, or why not.
    pub fn run(&self, input: &Value) -> Result<Value, MappingError> {
        let failed = |reason: String| MappingError::Failed {
            mapping: self.source.clone(),
            reason,
        };
        let text = input.to_string();
        let input = jaq_json::read::parse_single(text.as_bytes())
            .map_err(|e| failed(format!("the input does not read: {e}")))?;
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let mut outputs = Vec::new();
        for out in self.filter.id.run((ctx, input)).map(unwrap_valr) {
            match out {
                Ok(v) => outputs.push(v),
                // `error("…")` carries a string: its text, not its JSON.
                Err(e) => {
                    let message = e.to_string();
                    let text = serde_json::from_str::<String>(&message).unwrap_or(message);
                    return Err(failed(text));
                }
            }
            if outputs.len() > 1 {
                break;
            }
        }
        match outputs.as_slice() {
            [one] => serde_json::from_str(&one.to_string())
                .map_err(|e| failed(format!("its value is not JSON: {e}"))),
            _ => Err(MappingError::NotOne {
                mapping: self.source.clone(),
                count: outputs.len(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn map(code: &str) -> Mapping {
        Mapping::compile("test.jq", code).unwrap()
    }

    #[test]
    fn a_mapping_gives_one_value_and_keeps_big_ids_and_decimals_exact() {
        let m = map(
            r#"{externalId: (.id | tostring), total: .total, lines: [.lines[] | {item: .sku, quantity: .qty}]}"#,
        );
        let input: Value = serde_json::from_str(
            r#"{"id": 820982911946154508, "total": "12.50", "lines": [{"sku": "SKU-1", "qty": 2}]}"#,
        )
        .unwrap();
        let out = m.run(&input).unwrap();
        assert_eq!(out["externalId"], "820982911946154508");
        assert_eq!(out["total"], "12.50");
        assert_eq!(out["lines"], json!([{"item": "SKU-1", "quantity": 2}]));
    }

    #[test]
    fn failures_say_what_jq_said_and_how_many_values_came() {
        let e = map(r#"if .sku then . else error("no sku on the line") end"#)
            .run(&json!({}))
            .unwrap_err();
        assert!(
            matches!(&e, MappingError::Failed { reason, .. } if reason == "no sku on the line"),
            "{e}"
        );
        assert_eq!(
            map(".[]").run(&json!([1, 2])).unwrap_err(),
            MappingError::NotOne {
                mapping: "test.jq".into(),
                count: 2
            }
        );
        assert_eq!(
            map("empty").run(&json!(1)).unwrap_err(),
            MappingError::NotOne {
                mapping: "test.jq".into(),
                count: 0
            }
        );
    }

    #[test]
    fn a_program_that_does_not_compile_is_refused_with_where() {
        let e = Mapping::compile("orders.jq", "{a: .b,\n  c: (.d | }").unwrap_err();
        assert!(
            e.to_string().contains("orders.jq does not compile: line 2"),
            "{e}"
        );
        let e = Mapping::compile("orders.jq", ".a | no_such_filter").unwrap_err();
        assert!(
            e.to_string().contains("undefined filter `no_such_filter`"),
            "{e}"
        );
        assert!(e.to_string().contains("line 1, column 6"), "{e}");
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                prop::collection::btree_map("[a-z]{1,6}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// No mapping panics, whatever JSON it is given: it answers a value or an error.
        #[test]
        fn mappings_never_panic_on_arbitrary_json(input in arb_json()) {
            for code in [
                "{id: .id, lines: [.lines[]? | {sku, qty}]}",
                ".a.b.c",
                "[.[]?] | length",
                "if type == \"object\" then keys else [] end",
                "(.qty // 0) + 1",
                "tostring",
            ] {
                let _ = map(code).run(&input);
            }
        }
    }
}
