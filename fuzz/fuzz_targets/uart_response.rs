//! Bytes from the board -> `protocol::read_response`: a frame, a `ProtocolError`, or the end of
//! the bytes; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synforge_rtl::protocol::read_response;

fuzz_target!(|data: &[u8]| {
    let mut r: &[u8] = data;
    // Every frame in the bytes, as the host reads them one after another.
    while read_response(&mut r).is_ok() {}
});
