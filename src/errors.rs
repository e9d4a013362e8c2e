//! Error text for people: a library error with every cause it wraps, on one line.

/// `error` and its chain of causes, joined with `: `, since many libraries' own message ("error
/// sending request", "error connecting to server") leaves out what actually went wrong.
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        // Some wrappers already repeat their cause in their own message.
        if !text.ends_with(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("error sending request")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn names_every_cause_once() {
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset");
        assert_eq!(
            with_causes(&Outer(inner)),
            "error sending request: connection reset"
        );
    }
}
