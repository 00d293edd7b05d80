# The demo behind README command 1 (`scripts/demo`). Run it through that
# script, which installs what is missing, builds, and cleans up on Ctrl-C.
#
#   scripts/demo [--model ec25|eg95|bg96|ec21|sim7600|sim7080|a7600|sim7672|me910c1|lara_r6|e3372] [--seconds N]
#
# 1. This machine: USB discovery on the real /sys, what diagnose/0 says, and a
#    short walk through the AT parser and the signal conversions.
# 2. Talking AT: the modem simulator on a pty, VintageNetCellular.ATPort on it,
#    and a readable connect sequence (SIM, ICCID-based APN choice, PDP
#    read-compare-write, registration wait, dial), then the modem's facts and
#    a live signal/registration line.
# 3. The VintageNet technology: VintageNet.configure("ppp0", ...) against the
#    simulator, plugged in through a fixture sysfs, with the live property
#    table as `VintageNet.get_by_prefix/1` shows it. pppd can't run here, so
#    test/support/fake_pppd stands in for it: the real dialer (`cellular_port dial`) dials the
#    simulator and the real notifier delivers ip-up.
# 4. The fast data path: the same model with `data_path: :usb_net`. The modem is
#    switched into its USB network composition (when it has one), its net device
#    is one end of a veth pair in a network namespace, and a real DHCP server and
#    a far host sit at the other end (test/support/net_namespace.ex). Needs root;
#    skipped, with the reason, where namespaces can't be made.

defmodule Demo do
  alias VintageNetCellular.{AT, ATPort, Config, Diagnose, Discovery, Operators, ServiceProviders, Signal}
  alias VintageNetCellular.Connection.PDP
  alias VintageNetCellular.Test.{NetNamespace, Simulator, World}

  @models ~w(ec25 eg95 bg96 ec21 sim7600 sim7080 a7600 sim7672 me910c1 lara_r6 e3372)
  @profiles %{
    "ec25" => VintageNetCellular.Modem.QuectelEC25,
    "eg95" => VintageNetCellular.Modem.QuectelEG95,
    "bg96" => VintageNetCellular.Modem.QuectelBG96,
    "ec21" => VintageNetCellular.Modem.QuectelEC21,
    "sim7600" => VintageNetCellular.Modem.SIMCom7600,
    "sim7080" => VintageNetCellular.Modem.SIMCom7080,
    "a7600" => VintageNetCellular.Modem.SIMComA7600,
    "sim7672" => VintageNetCellular.Modem.SIMComA7600,
    "me910c1" => VintageNetCellular.Modem.TelitME910,
    "lara_r6" => VintageNetCellular.Modem.UbloxLara,
    "e3372" => VintageNetCellular.Modem.HuaweiE3372
  }

  # A sample provider list: the SIM's ICCID picks the APN.
  @providers [
    %{apn: "iot.1nce.net", only_iccid_prefixes: ["8988228"]},
    %{apn: "hologram", only_iccid_prefixes: ["8944500", "8901260"]},
    %{apn: "broadband", only_iccid_prefixes: ["8901410"]},
    %{apn: "internet"}
  ]

  def main(argv) do
    {opts, _, invalid} = OptionParser.parse(argv, strict: [model: :string, seconds: :integer, uart: :boolean])

    model = Keyword.get(opts, :model, "ec25")

    if invalid != [] or model not in @models do
      IO.puts(:stderr, "usage: scripts/demo [--model #{Enum.join(@models, "|")}] [--uart] [--seconds N]")
      System.halt(2)
    end

    seconds = Keyword.get(opts, :seconds, 20)
    Logger.configure(level: :error)

    this_machine()
    talking_at(model, @profiles[model], seconds)
    uart? = Keyword.get(opts, :uart, false)
    technology(model, seconds, uart?)
    if uart?, do: heading("4. (skipped with --uart: a UART has no USB network function)"), else: usb_net(model, seconds)
    # The double saved the demo's configuration, as vintage_net would; leave nothing behind.
    VintageNet.Double.Persistence.clear()
    heading("Done")
    IO.puts("Everything the demo started has stopped. Run `scripts/test` for the full test suite.")
  end

  # ---------------------------------------------------------------- part 1

  defp this_machine do
    heading("1. This machine: USB discovery from /sys")
    devices = Discovery.scan("/sys")

    IO.puts("USB devices with a vendor-class or CDC interface: #{length(devices)}")

    for d <- devices do
      IO.puts(
        "  #{d.usb_path} #{hex(d.vendor_id)}:#{hex(d.product_id)} #{d.product || "?"} " <>
          "profile=#{inspect(d.profile)} at=#{d.at_tty || "-"} ppp=#{d.ppp_tty || "-"}"
      )
    end

    IO.puts("\nVintageNetCellular.diagnose() says:")
    "/sys" |> Diagnose.run() |> Diagnose.format() |> indent() |> IO.puts()

    heading("The AT parser and signal conversions (Rust, through the NIF)")

    for line <- [
          "+CSQ: 17,99",
          ~s(+CEREG: 1,"1A2B","01A2D301",7),
          "+CREG: 2,5,\"00C3\",\"0B2D3F0\",2",
          ~s(+COPS: 0,2,"310410",7),
          ~s(+QNWINFO: "FDD LTE","310410","LTE BAND 12",5110),
          "+CPSI: LTE,Online,310-410,0x4F1B,26140801,318,EUTRAN-BAND12,5110,3,3,-110,-880,-610,15",
          "+ICCID: 98101430121181157002",
          "+CME ERROR: SIM not inserted",
          ~s(+CPIN: "SIM PIN"),
          "+CSQ: 17,\"x\""
        ] do
      IO.puts("  #{String.pad_trailing(line, 48)} => #{inspect(AT.parse(line), limit: 8, printable_limit: 40)}")
    end

    IO.puts("")

    for asu <- [31, 17, 9, 99] do
      IO.puts("  Signal.from_gsm_asu(#{asu}) => #{inspect(Signal.from_gsm_asu(asu))}")
    end

    IO.puts("  Signal.from_lte_rssi(-71) => #{inspect(Signal.from_lte_rssi(-71))}")
    IO.puts("  Signal.from_lte(-97, -11, 12) => #{inspect(Signal.from_lte(-97, -11, 12))}")
  end

  # ---------------------------------------------------------------- part 2

  defp talking_at(model, profile, seconds) do
    heading("2. Talking AT to a simulated #{String.upcase(model)}")
    {:ok, sim} = Simulator.start_link(["--model", model, "--seed", "3", "--register-after-ms", "1500"])
    ports = Simulator.ports(sim)
    IO.puts("simulator ready: AT port #{ports.at}, PPP port #{ports.ppp}")

    {:ok, at} = ATPort.start_link(tty: ports.at)
    counter = :counters.new(1, [])

    step("Echo off, verbose errors")
    cmd(at, counter, "ATE0")
    cmd(at, counter, "AT+CMEE=2")

    step("SIM")
    {:ok, {:cpin, %{state: sim_state}}} = cmd(at, counter, "AT+CPIN?") |> parse_first()
    say("SIM state: #{sim_state}")

    step("ICCID and the service provider")
    {:ok, {:iccid, %{iccid: iccid}}} = cmd(at, counter, profile.iccid_command()) |> parse_first()
    {:ok, [imsi]} = cmd(at, counter, "AT+CIMI")
    providers = Config.normalize(config(@providers)).vintage_net_cellular.service_providers
    {:ok, provider} = ServiceProviders.select(providers, iccid)
    say("ICCID #{iccid}, IMSI #{imsi}: the provider list picks APN #{inspect(provider.apn)}")

    step("PDP context: read, compare, write only if it differs")
    {:ok, lines} = cmd(at, counter, "AT+CGDCONT?")
    {:ok, auth_lines} = cmd(at, counter, "AT+CGAUTH?")
    current = %{cgdcont: parsed(lines, :cgdcont), cgauth: parsed(auth_lines, :cgauth)}

    case PDP.plan(current, provider, cid: profile.pdp_cid(), cgauth: &profile.cgauth_command/4) do
      [] ->
        say("context #{profile.pdp_cid()} already matches; nothing written")

      plan ->
        say("#{PDP.describe(current, provider, cid: profile.pdp_cid())}: writing")
        Enum.each(plan, &cmd(at, counter, &1))
    end

    step("Registration (from URCs, no polling)")
    :ok = ATPort.subscribe(at, "+CEREG")
    cmd(at, counter, "AT+CEREG=2")
    {:ok, {:cereg, reg}} = cmd(at, counter, "AT+CEREG?") |> parse_first()
    say("now: #{reg.stat}")
    reg = if registered?(reg.stat), do: reg, else: await_registration(at)
    say("registered: #{reg.stat}, TAC #{reg.lac}, cell #{reg.ci}, #{reg.act}")

    step("Dial on the PPP port")
    {:ok, ppp} = ATPort.start_link(tty: ports.ppp)
    dial = "ATD*99***#{profile.pdp_cid()}#"
    result = ATPort.command(ppp, dial, 30_000)
    :counters.add(counter, 1, 1)
    say("#{dial} -> #{inspect(result)}")

    say(
      "#{:counters.get(counter, 1)} AT round trips from port open to CONNECT in this step-by-step walk-through; " <>
        "the connection manager sends the same checks as 3 compound lines (5 round trips, see scripts/bench)"
    )

    :ok = Simulator.control(sim, "hangup")
    GenServer.stop(ppp)

    step("The modem's facts")
    facts(at, profile)

    step("Live signal and registration (the simulator drifts; every 2 s it is asked for a new value)")
    live_signal(at, sim, div(seconds, 2))

    GenServer.stop(at)
    Simulator.stop(sim)
  end

  defp facts(at, profile) do
    for {label, command} <- [
          {"manufacturer", "AT+CGMI"},
          {"model", "AT+CGMM"},
          {"revision", "AT+CGMR"},
          {"IMEI", "AT+CGSN"}
        ] do
      {:ok, lines} = ATPort.command(at, command)
      say("#{String.pad_trailing(label, 12)} #{Enum.join(lines, " ")}")
    end

    {:ok, _} = ATPort.command(at, "AT+COPS=3,2")

    with {:ok, {:cops, %{operator: plmn}}} when is_binary(plmn) <- ATPort.command(at, "AT+COPS?") |> parse_first() do
      {mcc, mnc} = String.split_at(plmn, 3)

      say(
        "#{String.pad_trailing("operator", 12)} #{plmn} (MCC #{mcc}, MNC #{mnc}) = #{Operators.provider_name(mcc, mnc)}"
      )
    end

    for command <- profile.cell_info_commands() do
      {:ok, lines} = ATPort.command(at, command)
      Enum.each(lines, &say("#{String.pad_trailing("cell", 12)} #{inspect(AT.parse(&1), limit: 12)}"))
    end
  end

  defp live_signal(at, sim, rounds) do
    Enum.reduce(1..max(rounds, 1), nil, fn i, last ->
      if rem(i, 3) == 0, do: Simulator.control(sim, "signal #{Enum.random(5..28)}")
      {:ok, {:csq, %{rssi: rssi}}} = ATPort.command(at, "AT+CSQ") |> parse_first()
      {:ok, {:cereg, %{stat: stat}}} = ATPort.command(at, "AT+CEREG?") |> parse_first()
      %{dbm: dbm, bars: bars} = Signal.from_gsm_asu(rssi)
      line = "signal #{dbm} dBm (asu #{rssi}) #{bars_text(bars)}  registration #{stat}"

      if line != last do
        IO.puts("  #{time()} #{line}")
      end

      Process.sleep(2_000)
      line
    end)
  end

  # ---------------------------------------------------------------- part 3

  defp technology(model, seconds, true) do
    heading("3. One UART, full service: the 27.010 multiplexer, with live properties")

    IO.puts("""
    VintageNet.configure("ppp0", %{type: VintageNetCellular,
      vintage_net_cellular: %{modem: #{inspect(@profiles[model])}, at_tty: "ttyS1",
        service_providers: [...]}})          # cmux: :auto

    The simulator has ONE serial line here (--uart), linked as ttyS1. The library sends the
    profile's AT+CMUX, the port program runs 27.010 on the line: channel 1 carries AT (the
    monitor, URCs, at/3), channel 2 carries PPP on a pty. pppd is test/support/fake_pppd (the
    real dialer on the data channel). While PPP is up, AT keeps working:
    """)

    {:ok, _} = VintageNet.Double.start()
    world = World.start(env: [monitor: [signal_poll_ms: 2_000, cell_poll_ms: 3_000]])
    VintageNet.Double.put_env(internet_check: :pass)

    world =
      World.add_modem(world, :modem, model: String.to_atom(model), tty_base: 6, usb_path: "1-1.3", args: ["--uart"])

    sim = World.sim(world, :modem)
    File.ln_s!(Simulator.ports(sim).at, Path.join(world.dev, "ttyS1"))
    VintageNet.subscribe(["interface", "ppp0", "mobile", :_])

    config = %{
      type: VintageNetCellular,
      vintage_net_cellular: %{modem: @profiles[model], at_tty: "ttyS1", service_providers: @providers}
    }

    :ok = VintageNet.configure("ppp0", config)
    deadline = System.monotonic_time(:millisecond) + max(seconds, 10) * 1_000
    print_events(deadline, [{5_000, "signal 25"}, {9_000, "signal 9"}], System.monotonic_time(:millisecond), sim)

    heading("While PPP is up on the only port")
    {:ok, status} = VintageNet.ioctl("ppp0", :status)
    IO.puts("  state #{inspect(status.state)}; PPP on the data channel #{inspect(status.mux)}")
    IO.puts("  VintageNetCellular.at(\"ppp0\", \"AT+CSQ\") => #{inspect(VintageNetCellular.at("ppp0", "AT+CSQ"))}")

    VintageNet.deconfigure("ppp0")
    World.stop(world)
  end

  defp technology(model, seconds, false) do
    heading("3. The VintageNet technology on the simulator, with live properties")

    IO.puts("""
    VintageNet.configure("ppp0", %{type: VintageNetCellular,
      vintage_net_cellular: %{service_providers: #{inspect(@providers)}}})

    The modem is plugged in through a fixture sysfs as ttyUSB6..9 (as if a USB-serial adapter
    had taken the lower numbers); pppd is test/support/fake_pppd, which runs the real dialer and
    the real ip-up notifier. The kernel's side (ppp0 going lower_up) and the internet check's
    answer are simulated by the VintageNet double. Property events as VintageNet.subscribe/1
    delivers them:
    """)

    {:ok, _} = VintageNet.Double.start()
    world = World.start(env: [monitor: [signal_poll_ms: 3_000, cell_poll_ms: 3_000]])
    VintageNet.Double.put_env(internet_check: :pass)
    world = World.add_modem(world, :modem, model: String.to_atom(model), tty_base: 6, usb_path: "1-1.3")
    sim = World.sim(world, :modem)
    VintageNet.subscribe(["interface", "ppp0", "mobile", :_])
    VintageNet.subscribe(["interface", "ppp0", "connection"])

    :ok = VintageNet.configure("ppp0", config(@providers))
    deadline = System.monotonic_time(:millisecond) + max(seconds, 10) * 1_000

    script = [
      {4_000, "signal 25"},
      {6_000, "operator 310260 \"T-Mobile\""},
      {12_000, "signal 9"}
    ]

    print_events(deadline, script, System.monotonic_time(:millisecond), sim)

    heading("VintageNet.get_by_prefix([\"interface\", \"ppp0\", \"mobile\"])")

    for {["interface", "ppp0", "mobile", key], value} <-
          Enum.sort(VintageNet.get_by_prefix(["interface", "ppp0", "mobile"])) do
      IO.puts("  #{String.pad_trailing(key, 18)} #{inspect(value)}")
    end

    IO.puts(
      "  #{String.pad_trailing("(connection)", 18)} #{inspect(VintageNet.get(["interface", "ppp0", "connection"]))}"
    )

    VintageNet.deconfigure("ppp0")
    World.stop(world)
  end

  # ---------------------------------------------------------------- part 4

  @usb_net_models %{"a7600" => :rndis, "sim7672" => :rndis}

  defp usb_net(model, seconds) do
    heading("4. The fast data path: the modem's USB network function, with DHCP")

    case NetNamespace.start(ifname: "usb0") do
      {:ok, rig} ->
        try do
          usb_net(model, seconds, rig)
        after
          NetNamespace.stop(rig)
        end

      {:skip, reason} ->
        IO.puts("  skipped: #{reason}")

      {:error, reason} ->
        IO.puts("  skipped: the network namespaces did not start: #{inspect(reason)}")
    end
  end

  defp usb_net(model, seconds, rig) do
    IO.puts("""
    VintageNet.configure("wwan0", %{type: VintageNetCellular,
      vintage_net_cellular: %{service_providers: [...], data_path: :usb_net}})

    Same modem, another data path. If its composition has no network function, the library
    switches it (and reads the setting back); the modem restarts and comes back with one. Its
    net device is "usb0" in a network namespace of its own, one end of a veth pair; a real
    dnsmasq and a host at 10.11.12.13 sit at the other end. The library renames usb0 to the
    configured wwan0 and hands it to VintageNet's DHCP (udhcpc); the connection status comes
    from real TCP checks through it. AT control and properties stay on the AT port.
    """)

    world =
      World.start(
        netlink: false,
        # The kernel of this "board" has the USB network drivers (built in).
        drivers: ["cdc_ether", "rndis_host"],
        env: [monitor: [signal_poll_ms: 3_000, cell_poll_ms: 3_000], dial_timeout: 20_000]
      )

    Application.put_env(:vintage_net_cellular, :ip_command, World.ip_in_netns(world, rig.device_ns))

    VintageNet.Double.put_env(
      netns: rig.device_ns,
      internet_check: :tcp,
      internet_host_list: [{{10, 11, 12, 13}, 5000}]
    )

    {:ok, netlink} = VintageNet.Double.Netlink.start_link(netns: rig.device_ns)

    # The modem's net device exists only in a composition that has one.
    composition = Map.get(@usb_net_models, model)
    if composition == nil, do: NetNamespace.unplug_device(rig)

    world = World.add_modem(world, :modem, model: String.to_atom(model), tty_base: 6, usb_path: "1-1.4")

    World.follow_resets(world, :modem, fn
      :unplugged ->
        IO.puts("  #{time()} #{IO.ANSI.yellow()}(kernel: the modem re-enumerates; usb0 goes away)#{IO.ANSI.reset()}")
        NetNamespace.unplug_device(rig)

      {:replugged, c} when c in [:ecm, :rndis] ->
        IO.puts("  #{time()} #{IO.ANSI.yellow()}(kernel: back as #{c}; usb0 appears)#{IO.ANSI.reset()}")
        NetNamespace.plug_device(rig)

      {:replugged, c} ->
        IO.puts("  #{time()} #{IO.ANSI.yellow()}(kernel: back as #{c})#{IO.ANSI.reset()}")
    end)

    for key <- ["state", "data_path", "reason", "signal_4bars"],
        do: VintageNet.subscribe(["interface", "wwan0", "mobile", key])

    VintageNet.subscribe(["interface", "wwan0", "connection"])
    VintageNet.subscribe(["interface", "wwan0", "addresses"])

    config = %{type: VintageNetCellular, vintage_net_cellular: %{service_providers: @providers, data_path: :usb_net}}
    :ok = VintageNet.configure("wwan0", config)
    await_internet(System.monotonic_time(:millisecond) + max(seconds, 40) * 1_000)

    heading("What happened")
    IO.puts("  data_path:  #{inspect(VintageNet.get(["interface", "wwan0", "mobile", "data_path"]))}")
    IO.puts("  connection: #{inspect(VintageNet.get(["interface", "wwan0", "connection"]))}")
    IO.puts("  the device namespace's links: #{inspect(NetNamespace.device_links(rig))}")

    case NetNamespace.reach_far_end(rig) do
      {:ok, greeting} -> IO.puts("  a TCP connection from the device side to 10.11.12.13:5000: #{inspect(greeting)}")
      {:error, why} -> IO.puts("  the far end was not reached: #{inspect(why)}")
    end

    IO.puts("  the modem heard, beside the usual set-up:")

    for line <- World.received(world, :modem),
        String.contains?(line, [
          "usbnet",
          "CFUN=1,1",
          "QNETDEVCTL",
          "CUSBPIDSWITCH",
          "QCRMCALL",
          "UUSBCONF",
          "CGACT=1",
          "#ECM"
        ]),
        do: IO.puts("    #{line}")

    VintageNet.deconfigure("wwan0")
    GenServer.stop(netlink)
    World.stop(world)
  end

  defp await_internet(deadline) do
    remaining = deadline - System.monotonic_time(:millisecond)

    if remaining > 0 do
      receive do
        {VintageNet, ["interface", "wwan0" | rest], old, new, _meta} ->
          IO.puts("  #{time()} #{String.pad_trailing(Enum.join(rest, "/"), 24)} #{inspect(old)} -> #{inspect(new)}")
          if rest == ["connection"] and new == :internet, do: :ok, else: await_internet(deadline)
      after
        remaining -> IO.puts("  (no internet after the wait)")
      end
    end
  end

  defp print_events(deadline, script, t0, sim) do
    now = System.monotonic_time(:millisecond)

    {due, script} = Enum.split_with(script, fn {at, _} -> t0 + at <= now end)

    for {_, command} <- due do
      IO.puts("  #{time()} #{IO.ANSI.yellow()}simulator: #{command}#{IO.ANSI.reset()}")
      Simulator.control(sim, command)
    end

    if now < deadline do
      receive do
        {VintageNet, name, old, new, _meta} ->
          key = List.last(name)
          IO.puts("  #{time()} #{String.pad_trailing(key, 18)} #{inspect(old)} -> #{inspect(new)}")

          # The kernel creates ppp0 while pppd negotiates, before ip-up.
          if key == "state" and new == :dialing do
            IO.puts("  #{time()} #{IO.ANSI.yellow()}(netlink, simulated: ppp0 is lower_up)#{IO.ANSI.reset()}")
            VintageNet.Double.link_up("ppp0")
          end
      after
        200 -> :ok
      end

      print_events(deadline, script, t0, sim)
    end
  end

  # ---------------------------------------------------------------- helpers

  defp config(providers), do: %{type: VintageNetCellular, vintage_net_cellular: %{service_providers: providers}}

  defp cmd(at, counter, command) do
    :counters.add(counter, 1, 1)
    result = ATPort.command(at, command, 10_000)

    shown =
      case result do
        {:ok, []} -> "OK"
        {:ok, lines} when is_list(lines) -> Enum.join(lines, " | ") <> " | OK"
        other -> inspect(other)
      end

    IO.puts("  #{IO.ANSI.cyan()}> #{ATPort.redact(command)}#{IO.ANSI.reset()}  #{shown}")
    result
  end

  defp parse_first({:ok, [line | _]}), do: AT.parse(line)
  defp parse_first(other), do: {:error, other}

  defp parsed(lines, kind) do
    for line <- lines, {:ok, {^kind, map}} <- [AT.parse(line)], do: map
  end

  defp registered?(stat), do: stat in [:registered_home, :registered_roaming]

  defp await_registration(at) do
    receive do
      # The port program parsed the URC already.
      {ATPort, ^at, {:urc, line, parsed}} ->
        case parsed do
          {:ok, {:cereg, reg}} ->
            say("URC #{line}")
            if registered?(reg.stat), do: reg, else: await_registration(at)

          _ ->
            await_registration(at)
        end
    after
      30_000 -> raise "the simulated modem did not register in 30 s"
    end
  end

  defp heading(text), do: IO.puts("\n#{IO.ANSI.bright()}#{IO.ANSI.blue()}== #{text}#{IO.ANSI.reset()}")
  defp step(text), do: IO.puts("\n#{IO.ANSI.bright()}#{text}#{IO.ANSI.reset()}")
  defp say(text), do: IO.puts("  #{IO.ANSI.green()}#{text}#{IO.ANSI.reset()}")
  defp indent(text), do: text |> String.split("\n") |> Enum.map_join("\n", &("  " <> &1))
  defp hex(n), do: n |> Integer.to_string(16) |> String.downcase() |> String.pad_leading(4, "0")
  defp bars_text(bars), do: String.duplicate("▮", bars) <> String.duplicate("▯", 4 - bars)
  defp time, do: Time.utc_now() |> Time.truncate(:second) |> Time.to_string()
end

Demo.main(System.argv())
