//! Credentials for outside systems: an `auth` table whose `kind` names the scheme, and
//! secrets written `env:NAME` or `file:PATH`, never as the secret itself. A secret's value is
//! read only when the connector is built, and nothing here prints it: `Debug` shows where it
//! comes from, and errors name the variable or the file, not what they hold.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// Where a secret is read from.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// An environment variable.
    Env(String),
    /// A file (its contents, less a trailing newline).
    File(PathBuf),
    /// The secret written into the configuration itself: refused by the checks, and not kept.
    Literal,
}

/// Why a secret could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The environment variable is not set (or not UTF-8).
    #[error("environment variable {0} is not set")]
    EnvUnset(String),
    /// The file could not be read.
    #[error("cannot read the secret file {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The variable or the file is empty.
    #[error("{0} is empty")]
    Empty(String),
    /// The secret was written into the configuration.
    #[error("a secret written into the configuration is not read")]
    Literal,
}

impl Secret {
    /// Reads the secret's value.
    pub fn reveal(&self) -> Result<String, SecretError> {
        let (value, source) = match self {
            Secret::Env(name) => (
                std::env::var(name).map_err(|_| SecretError::EnvUnset(name.clone()))?,
                format!("environment variable {name}"),
            ),
            Secret::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| SecretError::File {
                    path: path.display().to_string(),
                    reason: e.kind().to_string(),
                })?;
                let text = text.strip_suffix('\n').unwrap_or(&text);
                let text = text.strip_suffix('\r').unwrap_or(text);
                (text.to_string(), format!("secret file {}", path.display()))
            }
            Secret::Literal => return Err(SecretError::Literal),
        };
        if value.is_empty() {
            return Err(SecretError::Empty(source));
        }
        Ok(value)
    }

    /// Where it is read from, for summaries: `env:NAME` or `file:PATH`.
    pub fn source(&self) -> String {
        match self {
            Secret::Env(name) => format!("env:{name}"),
            Secret::File(path) => format!("file:{}", path.display()),
            Secret::Literal => "(written in the file)".to_string(),
        }
    }

    /// Refuses a secret written into the configuration, naming it by `key` (never its value).
    pub(super) fn check(&self, key: impl FnOnce() -> String) -> Result<(), super::ConfigError> {
        match self {
            Secret::Literal => Err(super::ConfigError::Invalid {
                key: key(),
                message: "write the secret as env:NAME (an environment variable) or file:PATH \
                          (a file holding it), not the secret itself"
                    .into(),
            }),
            _ => Ok(()),
        }
    }

    fn parse(text: &str) -> Self {
        if let Some(name) = text.strip_prefix("env:") {
            let ok =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if ok {
                return Secret::Env(name.to_string());
            }
        } else if let Some(path) = text.strip_prefix("file:")
            && !path.trim().is_empty()
        {
            return Secret::File(PathBuf::from(path));
        }
        Secret::Literal
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Any text is taken here, so a literal never reaches a parse error (which quotes the
        // line it is on); the configuration's checks refuse it by its key.
        let text = String::deserialize(d)?;
        Ok(Secret::parse(&text))
    }
}

/// How calls to an outside system prove who is calling: `auth = { kind = "…", … }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// A header of the system's own, e.g. `X-Shopify-Access-Token`.
    Header {
        /// The header's name.
        name: String,
        /// Its value.
        value: Secret,
    },
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: Secret,
    },
    /// `Authorization: Basic …` (RFC 7617).
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: Secret,
    },
    /// OAuth 2.0 client credentials (RFC 6749 §4.4): a bearer token asked of `token_url`,
    /// kept until shortly before it expires, and asked again once when the system answers
    /// 401.
    #[serde(rename = "oauth2_client_credentials")]
    OAuth2ClientCredentials {
        /// The authorization server's token endpoint.
        token_url: String,
        /// The client's id.
        client_id: String,
        /// The client's secret.
        client_secret: Secret,
        /// The scope asked for, e.g. `https://api.businesscentral.dynamics.com/.default`.
        #[serde(default)]
        scope: Option<String>,
    },
    /// NetSuite's token-based authentication: OAuth 1.0a, each request signed with
    /// HMAC-SHA256, `realm` the account.
    NetsuiteTba {
        /// The account id, e.g. `1234567` or `1234567_SB1`.
        account: String,
        /// The integration's consumer key.
        consumer_key: Secret,
        /// The integration's consumer secret.
        consumer_secret: Secret,
        /// The access token's id.
        token_id: Secret,
        /// The access token's secret.
        token_secret: Secret,
    },
}

impl Auth {
    /// The scheme's name, as `kind` writes it.
    pub fn kind(&self) -> &'static str {
        match self {
            Auth::Header { .. } => "header",
            Auth::Bearer { .. } => "bearer",
            Auth::Basic { .. } => "basic",
            Auth::OAuth2ClientCredentials { .. } => "oauth2_client_credentials",
            Auth::NetsuiteTba { .. } => "netsuite_tba",
        }
    }

    /// Each secret with the key it is written under (relative to the `auth` table).
    pub fn secrets(&self) -> Vec<(&'static str, &Secret)> {
        match self {
            Auth::Header { value, .. } => vec![("value", value)],
            Auth::Bearer { token } => vec![("token", token)],
            Auth::Basic { password, .. } => vec![("password", password)],
            Auth::OAuth2ClientCredentials { client_secret, .. } => {
                vec![("client_secret", client_secret)]
            }
            Auth::NetsuiteTba {
                consumer_key,
                consumer_secret,
                token_id,
                token_secret,
                ..
            } => vec![
                ("consumer_key", consumer_key),
                ("consumer_secret", consumer_secret),
                ("token_id", token_id),
                ("token_secret", token_secret),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Holder {
        auth: Auth,
    }

    fn auth(text: &str) -> Result<Auth, String> {
        toml::from_str::<Holder>(text)
            .map(|h| h.auth)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn secrets_are_named_never_written() {
        assert_eq!(
            Secret::parse("env:ERP_TOKEN"),
            Secret::Env("ERP_TOKEN".into())
        );
        assert_eq!(
            Secret::parse("file:/run/secrets/erp"),
            Secret::File("/run/secrets/erp".into())
        );
        for literal in ["sk_live_123", "env:", "env:NOT-A-NAME", "file: ", ""] {
            assert_eq!(Secret::parse(literal), Secret::Literal, "{literal}");
        }
        let debug = format!("{:?}", Secret::parse("hunter2"));
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn a_secret_is_read_from_its_file_or_variable_and_errors_name_only_the_source() {
        let dir = std::env::temp_dir().join(format!("crossdock-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "s3cr3t\n").unwrap();
        assert_eq!(Secret::File(path.clone()).reveal().unwrap(), "s3cr3t");
        std::fs::write(&path, "").unwrap();
        assert!(matches!(
            Secret::File(path.clone()).reveal(),
            Err(SecretError::Empty(_))
        ));
        let missing = Secret::Env("CROSSDOCK_TEST_SURELY_UNSET_VAR".into());
        let e = missing.reveal().unwrap_err().to_string();
        assert!(e.contains("CROSSDOCK_TEST_SURELY_UNSET_VAR"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn auth_reads_each_scheme_and_refuses_others() {
        assert_eq!(
            auth(r#"auth = { kind = "bearer", token = "env:T" }"#).unwrap(),
            Auth::Bearer {
                token: Secret::Env("T".into())
            }
        );
        let basic = auth(r#"auth = { kind = "basic", user = "svc", password = "file:/p" }"#);
        assert_eq!(basic.unwrap().kind(), "basic");
        let header =
            auth(r#"auth = { kind = "header", name = "X-Shopify-Access-Token", value = "env:S" }"#);
        assert_eq!(header.unwrap().secrets()[0].0, "value");
        let oauth = auth(
            r#"auth = { kind = "oauth2_client_credentials", token_url = "https://login.example.com/token", client_id = "crossdock", client_secret = "env:CS", scope = "api" }"#,
        )
        .unwrap();
        assert_eq!(oauth.kind(), "oauth2_client_credentials");
        assert_eq!(oauth.secrets()[0].0, "client_secret");
        let tba = auth(
            r#"auth = { kind = "netsuite_tba", account = "1234567", consumer_key = "env:NS_CK", consumer_secret = "env:NS_CS", token_id = "env:NS_TI", token_secret = "env:NS_TS" }"#,
        )
        .unwrap();
        assert_eq!((tba.kind(), tba.secrets().len()), ("netsuite_tba", 4));
        let unknown = auth(r#"auth = { kind = "kerberos", token = "env:T" }"#).unwrap_err();
        assert!(unknown.contains("kerberos"), "{unknown}");
        let extra = auth(r#"auth = { kind = "bearer", token = "env:T", scope = "x" }"#);
        assert!(extra.is_err());
    }
}
