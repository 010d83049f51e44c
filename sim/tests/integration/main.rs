//! Integration tests of the models, one binary, grouped by concern.
mod consolidation;
mod golden;
mod learning;
mod props;
mod rules;
mod state;
mod sweep;
mod synapse_vars;
