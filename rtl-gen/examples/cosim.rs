fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cfg = if args.len() > 2 && args[2] != "-" {
        synforge_sim::Config::load(std::path::Path::new(&args[2])).unwrap()
    } else {
        synforge_sim::Config::builtin_default()
    };
    let steps: u32 = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(100);
    let net = cfg.build().unwrap();
    let tools = synforge_rtl::tools::Tools::locate().unwrap();
    let t0 = std::time::Instant::now();
    let h =
        synforge_rtl::cosim::Harness::build(&net, std::path::Path::new(&args[1]), false, &tools)
            .unwrap();
    eprintln!("build {:.1}s", t0.elapsed().as_secs_f64());
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = steps;
    let stim = spec.generate(&net.cfg).unwrap();
    let w0 = synforge_sim::model::FixedModel::new(&net).weights_raw();
    let r = h.run(&net, &w0, &stim, None).unwrap();
    println!("{:?}", r);
}
