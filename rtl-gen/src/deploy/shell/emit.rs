//! A rust-hdl block as synforge Verilog modules.
//!
//! rust-hdl writes one text: the block as module `top`, and every child as `top$child`, one
//! module per flip-flop (`DFF`) included. `modules` cleans that up where the tools allow:
//! - the top is renamed to the asked name, its children to `<name>_<child>`;
//! - every `DFF` instance becomes a register of its parent (`reg q; always @(posedge clock)
//!   q <= d;`, initial value 0 as rust-hdl's `DFF` has), so a block is one module, as a
//!   hand-written one would be: its flip-flops keep their names (`cnt_q`) and the netlist
//!   no hierarchy per bit;
//! - `$` in a net name (`cnt$q`, rust-hdl's path separator) becomes `_`, checked to clash with
//!   no other name;
//! - the text is refused if it holds a signed `localparam` (rust-hdl's `Signed<N>` writes one
//!   with no range, which Yosys reads as unsigned: `docs/rtl-notes.md` §3).

use rust_hdl::prelude::*;

/// The modules of `uut` as `(module name, text)`, its own first, named `name`.
pub fn modules<U: Block>(name: &str, uut: &mut U) -> Vec<(String, String)> {
    clean(name, &text(uut))
}

/// rust-hdl's own text of `uut` (module `top`, children `top$child`), its signals connected.
pub fn text<U: Block>(uut: &mut U) -> String {
    uut.connect_all();
    generate_verilog(uut)
}

/// The text of rust-hdl's `generate_verilog`, cleaned (see the module's comment).
pub fn clean(name: &str, text: &str) -> Vec<(String, String)> {
    assert!(
        !text.contains("localparam signed"),
        "{name}: rust-hdl wrote a signed localparam (a Signed<N> constant); use Bits<N>"
    );
    let raw = split(text);
    let dffs: Vec<(&str, u32)> =
        raw.iter().filter_map(|(n, b)| Some((n.as_str(), dff_width(b)?))).collect();
    // The other modules, old name -> new name.
    let renames: Vec<(&str, String)> = raw
        .iter()
        .map(|(old, _)| old.as_str())
        .filter(|old| !dffs.iter().any(|(n, _)| n == old))
        .map(|old| {
            let new = if old == "top" {
                name.to_string()
            } else {
                old.replacen("top", name, 1).replace('$', "_")
            };
            (old, new)
        })
        .collect();
    let mut out: Vec<(String, String)> = Vec::new();
    for (old, new) in &renames {
        let body = &raw.iter().find(|(n, _)| n == old).expect("a module of the text").1;
        let mut t = inline_dffs(body, &dffs);
        t = t.replace(&format!("module {old}("), &format!("module {new}("));
        t = t.replace(&format!("endmodule // {old}"), "endmodule");
        for (o, n) in &renames {
            // Instances: `    top$sync sync(`.
            t = t.replace(&format!("    {o} "), &format!("    {n} "));
        }
        out.push((new.clone(), dollars(&t)));
    }
    out
}

/// `body` with each instance of a `DFF` module (`dffs`: names and widths) written as a register
/// of its own: the instance's `q` net, declared a `wire`, becomes a `reg` set on its clock.
fn inline_dffs(body: &str, dffs: &[(&str, u32)]) -> String {
    let lines: Vec<&str> = body.lines().collect();
    let mut regs: Vec<(String, u32)> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    let mut k = 0;
    while k < lines.len() {
        let l = lines[k];
        let dff =
            dffs.iter().find(|(n, _)| l.starts_with(&format!("    {n} ")) && l.ends_with('('));
        if let Some(&(_, w)) = dff {
            // `    top$cnt cnt(` / `.d(D),` / `.q(Q),` / `.clock(C)` / `);`
            let port = |i: usize, p: &str| -> String {
                let t = lines[k + i].trim().trim_end_matches(',');
                t.strip_prefix(&format!(".{p}("))
                    .and_then(|r| r.strip_suffix(')'))
                    .unwrap_or_else(|| panic!("a DFF instance's .{p}: {t}"))
                    .to_string()
            };
            let (d, q, c) = (port(1, "d"), port(2, "q"), port(3, "clock"));
            assert_eq!(lines[k + 4].trim(), ");", "a DFF instance ends");
            out.push(format!("    always @(posedge {c}) {q} <= {d};"));
            regs.push((q, w));
            k += 5;
            continue;
        }
        out.push(l.to_string());
        k += 1;
    }
    for (q, w) in &regs {
        let range = if *w == 1 { String::new() } else { format!("[{}:0] ", w - 1) };
        let decl = format!("    wire  {range}{q};");
        let at = out.iter().position(|l| *l == decl).unwrap_or_else(|| panic!("{decl}"));
        out[at] = format!("    reg  {range}{q};\n    initial {q} = {w}'h0;");
    }
    let mut t = out.join("\n");
    t.push('\n');
    t
}

/// `(name, text)` of every module in rust-hdl's output, in its order.
fn split(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("module ") {
        // `endmodule // name` also contains "module ": start only at a line's start.
        if at > 0 && !rest[..at].ends_with('\n') {
            rest = &rest[at + 7..];
            continue;
        }
        let from = &rest[at..];
        let name = from[7..].split('(').next().expect("a module name").trim().to_string();
        let end_tag = format!("endmodule // {name}");
        let end = from.find(&end_tag).expect("rust-hdl closes every module") + end_tag.len();
        out.push((name, format!("{}\n", from[..end].trim_end())));
        rest = &from[end..];
    }
    out
}

/// The width of a rust-hdl `DFF` module's `d`, or `None` if `body` is not one.
fn dff_width(body: &str) -> Option<u32> {
    let dff = body.contains("(d,q,clock);")
        && body.contains("always @(posedge clock) begin\n       q <= d;\n    end")
        && body.lines().filter(|l| l.trim_start().starts_with("input")).count() == 2;
    if !dff {
        return None;
    }
    let d = body.lines().find(|l| l.trim_end().ends_with(" d;"))?;
    match d.split('[').nth(1) {
        None => Some(1),
        Some(r) => Some(r.split(':').next()?.trim().parse::<u32>().ok()? + 1),
    }
}

/// `a$b` -> `a_b` in every identifier; a `$` that starts a token (`$signed`) stays.
fn dollars(t: &str) -> String {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(t.len());
    let mut prev = ' ';
    for c in t.chars() {
        out.push(if c == '$' && ident(prev) { '_' } else { c });
        prev = c;
    }
    // A cleaned name must not be one that was already there.
    for word in t.split(|c: char| !(ident(c) || c == '$')) {
        if word.contains('$') && !word.starts_with('$') {
            let clean = word.replace('$', "_");
            let clash = t.split(|c: char| !(ident(c) || c == '$')).any(|w| w == clean);
            assert!(!clash, "{word} and {clean} are both names in one module");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::shell::uart::UartRx;

    #[test]
    fn rust_hdl_names_become_synforge_names() {
        let mods = modules("sf_uart_rx", &mut UartRx::<7>::new(104));
        let (name, text) = &mods[0];
        assert_eq!(name, "sf_uart_rx");
        assert!(text.starts_with("module sf_uart_rx(clk,rst,rx,valid,data);"), "{text}");
        assert!(text.contains("always @(posedge cnt_clock) cnt_q <= cnt_d;"), "{text}");
        assert!(text.contains("    reg  [6:0] cnt_q;\n    initial cnt_q = 7'h0;"), "{text}");
        assert!(!text.contains('$') && !text.contains("endmodule //"), "{text}");
        assert_eq!(mods.len(), 1, "the flip-flops are the block's own registers");
    }

    #[test]
    #[should_panic(expected = "a$b and a_b are both names in one module")]
    fn a_cleaned_name_that_clashes_is_refused() {
        dollars("wire a$b;\nwire a_b;\n");
    }

    #[test]
    fn a_system_task_keeps_its_dollar() {
        assert_eq!(dollars("x$q = $signed(y$d);"), "x_q = $signed(y_d);");
    }

    #[test]
    #[should_panic(expected = "signed localparam")]
    fn a_signed_localparam_is_refused() {
        clean("t", "module top(a);\n    localparam signed k = 16'hfffd;\nendmodule // top\n");
    }
}
