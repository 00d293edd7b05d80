defmodule VintageNet.IP.IPv4Config do
  @moduledoc """
  Test double of `VintageNet.IP.IPv4Config.add_config/3` for
  `%{ipv4: %{method: :dhcp}}`, the part vintage_net_ethernet (and this
  library's USB network path) use. As vintage_net 0.13 does, it appends to
  the raw config:

  * `up_cmds`: `{:run, "ip", ["link", "set", ifname, "up"]}`;
  * `down_cmds`: `{:run_ignore_errors, "ip", ["addr", "flush", "dev", ifname, "label", ifname]}`
    and `{:run, "ip", ["link", "set", ifname, "down"]}`;
  * `child_specs`: udhcpc under `VintageNet.Interface.IfupDaemon` (id
    `:udhcpc`; `udhcpc -f -i <ifname> -x hostname:<hostname> -s <handler>`,
    plus `-O <option>` for each `dhcp_request_options`), then
    `{VintageNet.Connectivity.InternetChecker, ifname}`.

  The hostname is the config's `:hostname`, else the machine's. Other
  methods are not part of the double and raise.
  """

  @doc "Adds the IPv4 configuration to a raw config."
  @spec add_config(struct(), map(), keyword()) :: struct()
  def add_config(raw, %{ipv4: %{method: :dhcp} = ipv4} = config, _opts) do
    ifname = raw.ifname
    hostname = config[:hostname] || hostname()
    request_options = ipv4 |> Map.get(:dhcp_request_options, []) |> Enum.flat_map(&["-O", &1])

    udhcpc =
      Supervisor.child_spec(
        {VintageNet.Interface.IfupDaemon,
         [
           ifname: ifname,
           command: "udhcpc",
           args: ["-f", "-i", ifname, "-x", "hostname:#{hostname}", "-s", "<handler>"] ++ request_options,
           opts: [stderr_to_stdout: true, log_output: :debug, log_prefix: "udhcpc(#{ifname}): "]
         ]},
        id: :udhcpc
      )

    %{
      raw
      | up_cmds: raw.up_cmds ++ [{:run, "ip", ["link", "set", ifname, "up"]}],
        down_cmds:
          raw.down_cmds ++
            [
              {:run_ignore_errors, "ip", ["addr", "flush", "dev", ifname, "label", ifname]},
              {:run, "ip", ["link", "set", ifname, "down"]}
            ],
        child_specs: raw.child_specs ++ [udhcpc, {VintageNet.Connectivity.InternetChecker, ifname}]
    }
  end

  def add_config(_raw, config, _opts),
    do: raise(ArgumentError, "the VintageNet double has only ipv4 method :dhcp, got #{inspect(config[:ipv4])}")

  defp hostname do
    {:ok, name} = :inet.gethostname()
    to_string(name)
  end
end

defmodule VintageNet.Interface.IfupDaemon do
  @moduledoc """
  Test double of `VintageNet.Interface.IfupDaemon`: runs its program (under
  `MuonTrap.Daemon`) while `["interface", ifname, "lower_up"]` is true, and
  stops it when the link goes down.

  For udhcpc it also plays vintage_net's udhcpc handler (BEAMNotify, the
  OS event dispatcher and `VintageNet.Interface.Udhcpc`): the `-s` script
  (`"<handler>"` in the args) is a script of the double's that appends each
  event to a file this process reads every 50 ms; then, as the real handler
  does, `bound`/`renew` set the address on the interface (`ip addr`),
  `VintageNet.RouteManager.set_route(ifname, [{ip, prefix}], router)` and
  `VintageNet.NameResolver.setup(ifname, domain, dns)`; `deconfig`,
  `leasefail` and `nak` clear the route (and `deconfig` the DNS and the
  address).

  With `VintageNet.Double.put_env(netns: name)` the program and the `ip`
  commands run in that network namespace (`ip netns exec`), where the
  test's device is. Recorded in `VintageNet.Double.calls(:udhcpc)` as
  `{event, ifname, info}`.
  """

  @doc false
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(opts), do: %{id: __MODULE__, start: {__MODULE__, :start_link, [opts]}}

  @doc "Start watching the link."
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts), do: GenServer.start_link(VintageNet.Double.IfupDaemonServer, opts)
end

defmodule VintageNet.Double.IfupDaemonServer do
  @moduledoc false
  use GenServer

  alias VintageNet.Double.Store

  @impl GenServer
  def init(opts) do
    Process.flag(:trap_exit, true)
    ifname = Keyword.fetch!(opts, :ifname)

    dir =
      Path.join(
        Keyword.fetch!(VintageNet.Double.env(), :tmpdir),
        "udhcpc.#{ifname}.#{System.unique_integer([:positive])}"
      )

    File.mkdir_p!(dir)
    report = Path.join(dir, "events")
    script = Path.join(dir, "handler")

    File.write!(script, """
    #!/bin/sh
    for v in ip mask subnet router dns domain search broadcast; do
      eval "val=\\$$v"
      line="$line $v=$(printf %s "$val" | tr ' ' ',')"
    done
    echo "$1$line" >> "#{report}"
    exit 0
    """)

    File.chmod!(script, 0o755)

    state = %{
      ifname: ifname,
      command: Keyword.fetch!(opts, :command),
      args: Enum.map(Keyword.get(opts, :args, []), &if(&1 == "<handler>", do: script, else: &1)),
      opts: Keyword.get(opts, :opts, []),
      daemon: nil,
      report: report,
      read: 0
    }

    {:ok, state, {:continue, :start}}
  end

  @impl GenServer
  def handle_continue(:start, state) do
    VintageNet.subscribe(["interface", state.ifname, "lower_up"])
    Process.send_after(self(), :poll, 50)

    {:noreply,
     if(VintageNet.get(["interface", state.ifname, "lower_up"]) == true, do: start_daemon(state), else: state)}
  end

  @impl GenServer
  def handle_info({VintageNet, ["interface", _, "lower_up"], _old, true, _meta}, state),
    do: {:noreply, start_daemon(state)}

  def handle_info({VintageNet, ["interface", _, "lower_up"], _old, _down, _meta}, state),
    do: {:noreply, stop_daemon(state)}

  def handle_info(:poll, state) do
    Process.send_after(self(), :poll, 50)
    {:noreply, read_events(state)}
  end

  def handle_info({:EXIT, pid, _reason}, %{daemon: pid} = state), do: {:noreply, %{state | daemon: nil}}
  def handle_info(_other, state), do: {:noreply, state}

  @impl GenServer
  def terminate(_reason, state), do: stop_daemon(state)

  defp start_daemon(%{daemon: nil} = state) do
    {command, args} = VintageNet.Double.in_netns(state.command, state.args)
    {:ok, pid} = MuonTrap.Daemon.start_link(command, args, state.opts)
    %{state | daemon: pid}
  end

  defp start_daemon(state), do: state

  defp stop_daemon(%{daemon: nil} = state), do: state

  defp stop_daemon(%{daemon: pid} = state) do
    Process.unlink(pid)
    GenServer.stop(pid, :shutdown)
    %{state | daemon: nil}
  catch
    :exit, _ -> %{state | daemon: nil}
  end

  defp read_events(state) do
    case File.read(state.report) do
      {:ok, text} when byte_size(text) > state.read ->
        new = binary_part(text, state.read, byte_size(text) - state.read)
        complete = new |> String.split("\n") |> Enum.drop(-1)
        consumed = Enum.reduce(complete, 0, &(&2 + byte_size(&1) + 1))
        Enum.each(complete, &handle_event(state.ifname, &1))
        %{state | read: state.read + consumed}

      _ ->
        state
    end
  end

  defp handle_event(ifname, line) do
    [event | pairs] = String.split(line, " ", trim: true)

    info =
      for pair <- pairs, [k, v] <- [String.split(pair, "=", parts: 2)], v != "", into: %{} do
        {String.to_atom(k), v}
      end

    Store.record(:udhcpc, {event, ifname, info})
    apply_event(event, ifname, info)
  end

  defp apply_event(event, ifname, info) when event in ["bound", "renew"] do
    {:ok, ip} = :inet.parse_address(String.to_charlist(info.ip))
    prefix = prefix_length(Map.get(info, :mask) || Map.get(info, :subnet))
    VintageNet.Double.netns_cmd("ip", ["addr", "flush", "dev", ifname])
    VintageNet.Double.netns_cmd("ip", ["addr", "add", "#{info.ip}/#{prefix}", "dev", ifname])

    case Map.get(info, :router) do
      nil ->
        :ok

      routers ->
        {:ok, gateway} = routers |> String.split(",") |> hd() |> String.to_charlist() |> :inet.parse_address()
        VintageNet.RouteManager.set_route(ifname, [{ip, prefix}], gateway)
    end

    dns =
      for s <- String.split(Map.get(info, :dns, ""), ",", trim: true),
          {:ok, a} <- [:inet.parse_address(String.to_charlist(s))],
          do: a

    VintageNet.NameResolver.setup(ifname, Map.get(info, :search) || Map.get(info, :domain), dns)
  end

  defp apply_event("deconfig", ifname, _info) do
    VintageNet.RouteManager.clear_route(ifname)
    VintageNet.Double.netns_cmd("ip", ["addr", "flush", "dev", ifname])
    VintageNet.NameResolver.clear(ifname)
  end

  defp apply_event(event, ifname, _info) when event in ["leasefail", "nak"],
    do: VintageNet.RouteManager.clear_route(ifname)

  defp apply_event(_event, _ifname, _info), do: :ok

  defp prefix_length(nil), do: 24

  defp prefix_length(text) do
    case Integer.parse(text) do
      {bits, ""} when bits in 0..32 ->
        bits

      _ ->
        {:ok, {a, b, c, d}} = :inet.parse_address(String.to_charlist(text))
        <<mask::32>> = <<a, b, c, d>>
        mask |> Integer.digits(2) |> Enum.count(&(&1 == 1))
    end
  end
end

defmodule VintageNet.Double.Netlink do
  @moduledoc """
  Plays VintageNet's netlink monitor (`VintageNet.InterfacesMonitor`) for
  the links of one network namespace: every 50 ms it reads `ip -j addr` there
  and publishes, per link but `lo`, `["interface", name, "present"]` (true),
  `"lower_up"` (the kernel's LOWER_UP flag), `"mac_address"` and
  `"addresses"` (`%{family: :inet, address: ip, prefix_length: n, scope:
  :universe, netmask: mask}` maps), and deletes them when the link goes away
  or is renamed. Start it under the test (`start_supervised/1`).
  """
  use GenServer

  @doc false
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts), do: GenServer.start_link(__MODULE__, opts)

  @impl GenServer
  def init(opts) do
    state = %{netns: Keyword.fetch!(opts, :netns), links: %{}}
    {:ok, poll(state)}
  end

  @impl GenServer
  def handle_info(:poll, state), do: {:noreply, poll(state)}

  @impl GenServer
  def terminate(_reason, state) do
    Enum.each(Map.keys(state.links), &forget/1)
  end

  defp poll(state) do
    Process.send_after(self(), :poll, 50)

    with {links_text, 0} <- System.cmd("ip", ["-n", state.netns, "-o", "link", "show"], stderr_to_stdout: true),
         {addr_text, 0} <- System.cmd("ip", ["-n", state.netns, "-o", "-4", "addr", "show"], stderr_to_stdout: true) do
      links = parse(links_text, addr_text)
      Enum.each(Map.keys(state.links) -- Map.keys(links), &forget/1)
      Enum.each(links, fn {name, link} -> publish(name, link) end)
      %{state | links: links}
    else
      _ -> state
    end
  end

  defp forget(name) do
    for key <- ["present", "lower_up", "mac_address", "addresses"],
        do: PropertyTable.delete(VintageNet, ["interface", name, key])
  end

  defp publish(name, link) do
    PropertyTable.put_many(VintageNet, [
      {["interface", name, "present"], true},
      {["interface", name, "lower_up"], link.lower_up},
      {["interface", name, "mac_address"], link.mac},
      {["interface", name, "addresses"], link.addresses}
    ])
  end

  # `ip -o link`: "2: usb0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ... link/ether aa:bb:..."
  # `ip -o -4 addr`: "2: usb0    inet 192.168.225.100/24 brd ... scope global usb0 ..."
  defp parse(links_text, addr_text) do
    addresses =
      for line <- String.split(addr_text, "\n", trim: true),
          [_, name, local, len] <- [Regex.run(~r/^\d+:\s+(\S+)\s+inet\s+([\d.]+)\/(\d+)/, line)],
          {:ok, ip} <- [:inet.parse_address(String.to_charlist(local))] do
        len = String.to_integer(len)
        <<a, b, c, d>> = <<Bitwise.bsl(0xFFFFFFFF, 32 - len)::32>>
        {name, %{family: :inet, address: ip, prefix_length: len, scope: :universe, netmask: {a, b, c, d}}}
      end

    for line <- String.split(links_text, "\n", trim: true),
        [_, name, flags] <- [Regex.run(~r/^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>/, line)],
        name != "lo",
        into: %{} do
      mac =
        case Regex.run(~r/link\/ether\s+([0-9a-f:]{17})/, line) do
          [_, mac] -> mac
          nil -> nil
        end

      {name,
       %{
         lower_up: "LOWER_UP" in String.split(flags, ","),
         mac: mac,
         addresses: for({^name, address} <- addresses, do: address)
       }}
    end
  end
end
