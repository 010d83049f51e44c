//! Integration tests of the models, one binary, grouped by concern.
mod learning;
mod props;
mod rules;
