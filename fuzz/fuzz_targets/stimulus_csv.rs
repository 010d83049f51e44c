//! Stimulus CSV text -> `Stimulus::parse_csv`, for network sizes and run lengths taken from the
//! first bytes. It may refuse, never panic; what it accepts must survive `to_csv` unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synforge_sim::Stimulus;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    // inputs 1..=65536 (the config's limit); steps 0 ("to the last spike") or 1..=65535.
    let inputs = u16::from_le_bytes([data[0], data[1]]) as u32 + 1;
    let steps = u16::from_le_bytes([data[2], data[3]]) as u32;
    let Ok(text) = std::str::from_utf8(&data[4..]) else { return };
    let Ok(s) = Stimulus::parse_csv(text, "fuzz.csv", inputs, steps) else { return };
    let again = Stimulus::parse_csv(&s.to_csv(), "again.csv", inputs, s.steps())
        .expect("parse_csv reads what to_csv writes");
    assert_eq!(s, again, "a CSV stimulus survives to_csv");
});
