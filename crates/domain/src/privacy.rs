//! Personal data kept out of logs: an email address anywhere in a line is shown by its first
//! character and its domain only (`b***@example.com`), which still tells operators whose
//! domain a failure concerns.

use std::borrow::Cow;

fn local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._%+-'".contains(&b)
}

fn domain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
}

/// `text` with each email address in it masked; borrowed when there is none.
pub fn mask_emails(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    if !bytes.contains(&b'@') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    // Bytes before `copied` are in `out` already.
    let mut copied = 0;
    for (at, _) in text.match_indices('@') {
        if at < copied {
            continue;
        }
        let start = (copied..at)
            .rev()
            .take_while(|&i| local_char(bytes[i]))
            .last();
        let end = (at + 1..bytes.len())
            .take_while(|&i| domain_char(bytes[i]))
            .last()
            .map_or(at + 1, |i| i + 1);
        let domain = text[at + 1..end].trim_end_matches(['.', '-']);
        let is_address = domain.contains('.') && !domain.starts_with('.');
        let Some(start) = start.filter(|_| is_address) else {
            continue;
        };
        out.push_str(&text[copied..start]);
        out.push(char::from(bytes[start]));
        out.push_str("***@");
        out.push_str(domain);
        copied = at + 1 + domain.len();
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_are_masked_and_the_rest_kept() {
        let cases = [
            (
                "ERP refused: buyer@example.com unknown",
                "ERP refused: b***@example.com unknown",
            ),
            (
                r#"{"email":"jo.smith+x@mail.acme.co.uk","n":1}"#,
                r#"{"email":"j***@mail.acme.co.uk","n":1}"#,
            ),
            ("a@b.c and d@e.f.", "a***@b.c and d***@e.f."),
            (
                "no address @ all, user@localhost, @x.com",
                "no address @ all, user@localhost, @x.com",
            ),
            ("", ""),
        ];
        for (text, masked) in cases {
            assert_eq!(mask_emails(text), masked, "{text}");
        }
    }

    proptest! {
        #[test]
        fn no_address_survives_and_text_without_one_is_untouched(
            before in "[ -~]{0,20}", local in "[a-z0-9._+-]{1,12}",
            domain in "[a-z0-9-]{1,10}\\.[a-z]{2,6}", after in "[ -~]{0,20}",
        ) {
            let email = format!("{local}@{domain}");
            let text = format!("{before} {email} {after}");
            let masked = mask_emails(&text);
            prop_assert!(!masked.contains(&email), "{masked}");
            prop_assert!(masked.contains(&format!("***@{domain}")), "{masked}");
            let plain = before.replace('@', " ");
            prop_assert_eq!(mask_emails(&plain), plain.as_str());
        }
    }
}
