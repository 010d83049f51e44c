//! Multipliers in logic cells when the device's DSPs run out.
//!
//! Yosys maps every multiplier it can to a DSP (`SB_MAC16`, `MULT18X18D`) and offers no
//! per-cell opt-out, so a design with more products than the device has DSPs fails to fit
//! while logic cells may be left over (the consolidation preset needs 13 on the UP5K's 8).
//! [`crate::synth::synthesize`] then does what an engineer would by hand: it lists the
//! design's multipliers ([`survey_script`], [`parse_survey`]), and synthesizes again with the
//! cheapest of them turned into `$__soft_mul` cells before the DSP mapping ([`script`]).
//! `$__soft_mul` is the type Yosys's own `mul2dsp` gives the pieces too small for a DSP; both
//! `synth_ice40` and `synth_ecp5` build it from LUTs and carries. The RTL does not change:
//! the gate-level check (`Harness::build_gate_level_with`) simulates such a netlist against the
//! model.
//!
//! Names: after `flatten`, `rename -wire -suffix _mul t:$mul` names each multiplier after the
//! wire it drives; the generator gives every product a named wire (`u_rule_prod.t5_m`), so the
//! names are stable from one Yosys run to the next. A multiplier that drives an unnamed wire
//! keeps a private name and is never chosen.

use crate::board::Family;

/// The passes that run, after `-run begin:coarse`, before multipliers are listed or softened:
/// the same in the survey and in the synthesis that follows, so the names agree. (`synth_ice40`
/// has already run `proc` and `flatten` by then, `synth_ecp5` has not.)
const PREP: &str = "proc; flatten; opt -nodffe -nosdff; wreduce; opt_clean\n\
                    rename -wire -suffix _mul t:$mul\n";

/// The file the survey writes: the multipliers' cells as RTLIL.
pub const SURVEY_OUT: &str = "multipliers.il";

/// One multiplier of the flattened design: its cell's name and its operand and result widths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Multiplier {
    /// The cell's name, `<wire it drives>_mul`.
    pub name: String,
    /// Width of operand A.
    pub a: u32,
    /// Width of operand B.
    pub b: u32,
    /// Width of the result.
    pub y: u32,
}

impl Multiplier {
    /// How many DSPs Yosys's `mul2dsp` gives it: each operand is cut into pieces of the DSP's
    /// width, and a pair of pieces takes a DSP unless either is under 2 bits or (iCE40) their
    /// product is under 11 bits (`synth_ice40`'s `DSP_*_MINWIDTH`, `DSP_Y_MINWIDTH`). An
    /// estimate: Yosys may still merge or fold some; the synthesis that follows counts.
    pub fn dsps(&self, family: Family) -> u64 {
        let (max, y_min) = match family {
            Family::Ice40 => (16, 11),
            Family::Ecp5 => (18, 0),
        };
        let pieces = |w: u32| {
            let mut p = vec![max; (w / max) as usize];
            if w % max > 0 {
                p.push(w % max);
            }
            p
        };
        let (pa, pb) = (pieces(self.a), pieces(self.b));
        let pairs = pa.iter().flat_map(|a| pb.iter().map(move |b| (*a, *b)));
        pairs.filter(|(a, b)| *a >= 2 && *b >= 2 && a + b >= y_min).count() as u64
    }

    /// The wire it drives, as the generated Verilog names it (`network.u_core.u_rule_prod.t5_m`).
    pub fn wire(&self) -> &str {
        self.name.strip_suffix("_mul").unwrap_or(&self.name)
    }

    /// Logic cells it would roughly take: one partial-product bit each.
    fn area(&self) -> u64 {
        u64::from(self.a) * u64::from(self.b)
    }
}

/// The Yosys script that lists the multipliers into [`SURVEY_OUT`]. `read` is the
/// `read_verilog` line, `synth` the synthesis command with its flags (`synth_ice40 -device u
/// -dsp -spram`).
pub fn survey_script(read: &str, synth: &str, top: &str) -> String {
    format!(
        "{read}\n{synth} -top {top} -run begin:coarse\n{PREP}tee -q -o {SURVEY_OUT} dump t:$mul\n"
    )
}

/// The synthesis script with the multipliers named in `soft` built from logic cells; writes
/// `json` (if given) and `netlist.v`. With `soft` empty it is the plain one-command flow.
pub fn script(
    read: &str,
    synth: &str,
    top: &str,
    soft: &[Multiplier],
    json: Option<&str>,
) -> String {
    let json = json.map(|j| format!(" -json {j}")).unwrap_or_default();
    if soft.is_empty() {
        return format!("{read}\n{synth} -top {top}{json}\nwrite_verilog -noattr netlist.v\n");
    }
    let cells: Vec<String> = soft.iter().map(|m| format!("c:{}", m.name)).collect();
    format!(
        "{read}\n{synth} -top {top} -run begin:coarse\n{PREP}\
         # {} multipliers in logic cells: the device's DSPs are too few\n\
         chtype -set $__soft_mul {}\n{synth} -top {top} -run coarse:{json}\n\
         write_verilog -noattr netlist.v\n",
        soft.len(),
        cells.join(" ")
    )
}

/// The multipliers of a [`SURVEY_OUT`] dump (`cell $mul \name` then `parameter \A_WIDTH 16`
/// lines); those with private names or names a selection would read as a pattern are left out.
pub fn parse_survey(text: &str) -> Vec<Multiplier> {
    let mut out = Vec::new();
    let mut cur: Option<Multiplier> = None;
    let flush = |m: Option<Multiplier>, out: &mut Vec<Multiplier>| {
        if let Some(m) = m.filter(|m| m.a > 0 && m.b > 0) {
            out.push(m);
        }
    };
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("cell"), Some("$mul"), Some(name)) => {
                flush(cur.take(), &mut out);
                cur = name
                    .strip_prefix('\\')
                    .filter(|n| !n.contains(['*', '?', '[', ']', '$', ' ', '%', ':', '/']))
                    .map(|n| Multiplier { name: n.to_string(), a: 0, b: 0, y: 0 });
            }
            (Some("parameter"), Some(p), Some(v)) => {
                if let (Some(m), Ok(v)) = (cur.as_mut(), v.parse::<u32>()) {
                    match p {
                        "\\A_WIDTH" => m.a = v,
                        "\\B_WIDTH" => m.b = v,
                        "\\Y_WIDTH" => m.y = v,
                        _ => {}
                    }
                }
            }
            (Some("end"), ..) => flush(cur.take(), &mut out),
            _ => {}
        }
    }
    flush(cur, &mut out);
    out
}

/// The multipliers to soften first: those that take a DSP, cheapest in logic first (ties by
/// name, so the choice is the same from run to run).
pub fn candidates(mut muls: Vec<Multiplier>, family: Family) -> Vec<Multiplier> {
    muls.retain(|m| m.dsps(family) > 0);
    muls.sort_by(|x, y| x.area().cmp(&y.area()).then_with(|| x.name.cmp(&y.name)));
    muls
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "\
  attribute \\src \"sf_rule_prod.v:30.21-30.45\"
  cell $mul \\u_core.u_rule_prod.t5_m_mul
    parameter \\A_SIGNED 0
    parameter \\A_WIDTH 16
    parameter \\B_SIGNED 0
    parameter \\B_WIDTH 6
    parameter \\Y_WIDTH 22
    connect \\A \\u_core.param_rule_w_decay
  end
  cell $mul $mul$m.v:2$3
    parameter \\A_WIDTH 16
    parameter \\B_WIDTH 10
    parameter \\Y_WIDTH 26
  end
  cell $mul \\u_core.u_decay_v.prod_mul
    parameter \\A_WIDTH 16
    parameter \\B_WIDTH 16
    parameter \\Y_WIDTH 32
  end
  cell $mul \\u_core.tiny_mul
    parameter \\A_WIDTH 4
    parameter \\B_WIDTH 4
    parameter \\Y_WIDTH 8
  end
";

    #[test]
    fn the_survey_keeps_named_multipliers_with_their_widths() {
        let m = parse_survey(DUMP);
        let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            ["u_core.u_rule_prod.t5_m_mul", "u_core.u_decay_v.prod_mul", "u_core.tiny_mul"]
        );
        assert_eq!((m[0].a, m[0].b, m[0].y), (16, 6, 22));
        assert_eq!(m[0].wire(), "u_core.u_rule_prod.t5_m");
    }

    #[test]
    fn dsps_follow_mul2dsp_pieces() {
        let m = |a, b| Multiplier { name: "m".into(), a, b, y: a + b };
        assert_eq!(m(16, 6).dsps(Family::Ice40), 1);
        assert_eq!(m(4, 4).dsps(Family::Ice40), 0, "under DSP_Y_MINWIDTH");
        assert_eq!(m(18, 6).dsps(Family::Ice40), 1, "the 2 x 6 piece is too small");
        assert_eq!(m(32, 16).dsps(Family::Ice40), 2);
        assert_eq!(m(18, 6).dsps(Family::Ecp5), 1);
        assert_eq!(m(20, 20).dsps(Family::Ecp5), 4);
        assert_eq!(m(1, 16).dsps(Family::Ecp5), 0);
    }

    #[test]
    fn the_cheapest_dsp_multipliers_go_first() {
        let c = candidates(parse_survey(DUMP), Family::Ice40);
        let names: Vec<&str> = c.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["u_core.u_rule_prod.t5_m_mul", "u_core.u_decay_v.prod_mul"]);
    }

    #[test]
    fn the_script_softens_by_name_and_is_plain_without() {
        let read = "read_verilog -sv a.v";
        let plain = script(read, "synth_ice40 -dsp", "top", &[], Some("synth.json"));
        assert_eq!(
            plain,
            "read_verilog -sv a.v\nsynth_ice40 -dsp -top top -json synth.json\n\
             write_verilog -noattr netlist.v\n"
        );
        let soft = candidates(parse_survey(DUMP), Family::Ice40);
        let s = script(read, "synth_ice40 -dsp", "top", &soft[..1], Some("synth.json"));
        assert!(s.contains("-run begin:coarse\n"), "{s}");
        assert!(s.contains("chtype -set $__soft_mul c:u_core.u_rule_prod.t5_m_mul\n"), "{s}");
        assert!(s.contains("synth_ice40 -dsp -top top -run coarse: -json synth.json\n"), "{s}");
        assert!(survey_script(read, "synth_ecp5", "top").ends_with("dump t:$mul\n"));
    }
}
