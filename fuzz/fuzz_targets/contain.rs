//! The tool's own panic containment, as it runs in the release binary.
//!
//! libfuzzer-sys installs a panic hook that aborts on every panic, even one the code under test catches. The loader
//! catches a panic of the YAML parser (libyaml-safer has `panic!`s on a few inputs, e.g. a tag directly followed by
//! `,` in a flow collection) and reports the document as an error, so the release binary (panic = "unwind") goes
//! on. Restoring the default hook makes the fuzzer judge that behaviour: a caught panic is not a crash, a panic that
//! escapes the target still unwinds into libfuzzer-sys's `catch_unwind`, which aborts and records the input.
pub fn like_the_release_binary() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| drop(std::panic::take_hook()));
}
