//! Renderers: one output format per file, each a pure function from results to text.

pub mod posture;
