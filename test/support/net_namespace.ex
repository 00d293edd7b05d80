defmodule VintageNetCellular.Test.NetNamespace do
  @moduledoc """
  A far end for tests of a modem's USB network function (CDC-ECM, NCM,
  RNDIS): two network namespaces joined by a veth pair.

  ```text
   device namespace              network namespace
   ┌────────────────────┐  veth  ┌───────────────────────────────────────┐
   │ usb0 (ifname)      ├────────┤ far0 (peer_ifname) 192.168.225.1/24   │
   │ the modem's net    │        │   dnsmasq: DHCP .100-.199, router and │
   │ device as the host │        │   DNS 192.168.225.1 (own pid file,    │
   │ sees it            │        │   lease file and log in a temp dir)   │
   └────────────────────┘        │ lo: 10.11.12.13/32, a TCP listener on │
                                 │   port 5000 that greets and closes    │
                                 └───────────────────────────────────────┘
  ```

  The device end is named like the kernel names a modem's net device
  (`usb0`, or `enx` and the MAC's 12 hex digits, whose MAC is then set to
  match). 192.168.225.0/24 is the subnet Quectel modems hand out in ECM
  mode. The far address sits on the network namespace's loopback, so the
  device side reaches it through the default route of its DHCP lease, as it
  would reach the internet through a modem.

  Every name starts with `vnc13-` and carries the OS pid of the BEAM that made
  it: `start/1` first removes what a BEAM no longer running left behind (the
  processes inside its namespaces, the namespaces, the temp dirs), so a test
  run killed half way costs nothing to the next one, and two BEAMs running
  tests at the same time leave each other alone.

  The rig is a process linked to the caller (the test): it tears everything
  down when the test ends, passed or failed; `stop/1` does it at once and
  also works after the process is gone. Where namespaces can't be made (not
  root, a tool missing, no permission), `available/0` and `start/1` answer
  `{:skip, reason}`.

  Nothing here touches the host's network or `/etc`: dnsmasq reads no
  configuration file (`--conf-file=/dev/null`), no hosts file and no
  resolv.conf, and binds only to the veth end inside its namespace, where
  ports 53 and 67 are that namespace's own.
  """

  use GenServer

  @prefix "vnc13-"
  @netns_dir "/run/netns"

  @enforce_keys [:id, :device_ns, :network_ns, :ifname, :peer_ifname, :dir]
  defstruct [
    :id,
    :server,
    :device_ns,
    :network_ns,
    :ifname,
    :peer_ifname,
    :mac,
    :dir,
    network_address: "192.168.225.1",
    prefix_length: 24,
    dhcp_range: {"192.168.225.100", "192.168.225.199"},
    far_address: "10.11.12.13",
    far_port: 5000
  ]

  @type t :: %__MODULE__{}

  @tools [ip: "iproute2", dnsmasq: "dnsmasq-base", udhcpc: "udhcpc", busybox: "busybox"]

  # ---------------------------------------------------------------------------
  # Availability

  @doc """
  `:ok` where namespaces can be made and every tool is there, else
  `{:skip, reason}`. It makes (and removes) one throwaway namespace to be sure.
  """
  @spec available() :: :ok | {:skip, String.t()}
  def available do
    with :ok <- check_root(),
         :ok <- check_tools(),
         :ok <- check_netns() do
      :ok
    end
  end

  defp check_root do
    case System.cmd("id", ["-u"], stderr_to_stdout: true) do
      {out, 0} ->
        case String.trim(out) do
          "0" -> :ok
          uid -> {:skip, "not root (uid #{uid}): network namespaces need root"}
        end

      {out, status} ->
        {:skip, "`id -u` failed (exit #{status}): #{String.trim(out)}"}
    end
  end

  defp check_tools do
    missing = for {tool, package} <- @tools, find(tool) == nil, do: "#{tool} (Debian package #{package})"

    missing = if find(:timeout), do: missing, else: missing ++ ["timeout (coreutils)"]

    case missing do
      [] -> :ok
      _ -> {:skip, "missing #{Enum.join(missing, ", ")}; scripts/test installs them"}
    end
  end

  defp check_netns do
    name = "#{@prefix}#{System.pid()}-probe-#{System.unique_integer([:positive])}"

    case ip(["netns", "add", name]) do
      {_, 0} ->
        ip(["netns", "del", name])
        :ok

      {out, status} ->
        {:skip, "`ip netns add` failed (exit #{status}): #{String.trim(out)}"}
    end
  end

  @doc "The path of a tool the rig uses, or nil (it looks in /usr/sbin and /sbin too)."
  @spec find(atom()) :: String.t() | nil
  def find(tool) do
    name = Atom.to_string(tool)

    System.find_executable(name) ||
      Enum.find(["/usr/sbin/#{name}", "/sbin/#{name}"], &File.exists?/1)
  end

  # ---------------------------------------------------------------------------
  # Start and stop

  @doc """
  Builds the namespaces, starts dnsmasq and the TCP listener.

  Options: `:ifname` (the device end, default `"usb0"`, at most 15
  characters), `:peer_ifname` (default `"far0"`), `:mac` (the device end's
  MAC; for an `enx…` name it defaults to the name's), `:dhcp` (start dnsmasq,
  default true), `:far_port` (default 5000).
  """
  @spec start(keyword()) :: {:ok, t()} | {:skip, String.t()} | {:error, term()}
  def start(opts \\ []) do
    with :ok <- available(),
         {:ok, rig} <- new(opts) do
      cleanup_leftovers()

      case GenServer.start_link(__MODULE__, {rig, opts}) do
        {:ok, pid} -> {:ok, %{rig | server: pid}}
        {:error, reason} -> {:error, reason}
      end
    end
  end

  defp new(opts) do
    ifname = Keyword.get(opts, :ifname, "usb0")
    peer_ifname = Keyword.get(opts, :peer_ifname, "far0")

    with :ok <- check_ifname(ifname),
         :ok <- check_ifname(peer_ifname),
         {:ok, mac} <- mac_for(ifname, Keyword.get(opts, :mac)) do
      id = "#{@prefix}#{System.pid()}-#{System.unique_integer([:positive])}"

      {:ok,
       %__MODULE__{
         id: id,
         device_ns: id <> "-dev",
         network_ns: id <> "-net",
         ifname: ifname,
         peer_ifname: peer_ifname,
         mac: mac,
         dir: Path.join(System.tmp_dir!(), id),
         far_port: Keyword.get(opts, :far_port, 5000)
       }}
    end
  end

  defp check_ifname(name) do
    if is_binary(name) and byte_size(name) in 1..15 and name not in [".", "..", "lo"] and
         not String.contains?(name, ["/", " ", ":", "\t", "\n"]) do
      :ok
    else
      {:error, {:bad_ifname, name}}
    end
  end

  defp mac_for(_ifname, mac) when is_binary(mac), do: {:ok, mac}

  defp mac_for("enx" <> hex = ifname, nil) do
    if String.match?(hex, ~r/\A[0-9a-f]{12}\z/) do
      {:ok, hex |> String.to_charlist() |> Enum.chunk_every(2) |> Enum.join(":")}
    else
      {:error, {:bad_ifname, ifname}}
    end
  end

  defp mac_for(_ifname, nil), do: {:ok, nil}

  @doc "Tears the rig down: processes, namespaces, temp dir. Safe to call twice."
  @spec stop(t()) :: :ok
  def stop(%__MODULE__{server: pid} = rig) do
    if is_pid(pid) and Process.alive?(pid) do
      try do
        GenServer.stop(pid, :normal, 10_000)
      catch
        :exit, _ -> :ok
      end
    end

    teardown(rig)
  end

  @doc """
  Removes what BEAMs no longer running left: every `vnc13-` namespace and temp
  dir whose OS pid isn't a running BEAM, and the processes inside those
  namespaces. Returns the names removed.
  """
  @spec cleanup_leftovers() :: [String.t()]
  def cleanup_leftovers do
    namespaces =
      for name <- list_namespaces(), stale?(name) do
        kill_namespace_processes(name)
        ip(["netns", "del", name])
        name
      end

    dirs =
      for entry <- File.ls!(System.tmp_dir!()),
          String.starts_with?(entry, @prefix),
          stale?(entry) do
        File.rm_rf(Path.join(System.tmp_dir!(), entry))
        entry
      end

    namespaces ++ dirs
  end

  defp list_namespaces do
    case ip(["netns", "list"]) do
      {out, 0} ->
        for line <- String.split(out, "\n", trim: true),
            [name | _] = String.split(line, " ", trim: true),
            String.starts_with?(name, @prefix),
            do: name

      {_, _} ->
        []
    end
  end

  # "vnc13-<os pid>-..." belongs to a BEAM that is gone.
  defp stale?(@prefix <> rest) do
    with [pid | _] <- String.split(rest, "-"),
         {_, ""} <- Integer.parse(pid) do
      pid != System.pid() and not beam_running?(pid)
    else
      _ -> false
    end
  end

  defp stale?(_), do: false

  defp beam_running?(pid) do
    case File.read("/proc/#{pid}/comm") do
      {:ok, comm} -> String.starts_with?(comm, "beam")
      {:error, _} -> false
    end
  end

  defp teardown(rig) do
    for ns <- [rig.device_ns, rig.network_ns], ns in list_namespaces() do
      kill_namespace_processes(ns)
      ip(["netns", "del", ns])
    end

    File.rm_rf(rig.dir)
    :ok
  end

  defp kill_namespace_processes(ns) do
    case ip(["netns", "pids", ns]) do
      {out, 0} ->
        pids = String.split(out, "\n", trim: true)
        if pids != [], do: System.cmd("kill", ["-KILL" | pids], stderr_to_stdout: true)

      {_, _} ->
        :ok
    end
  end

  # ---------------------------------------------------------------------------
  # What a test does with the rig

  @doc "Starts dnsmasq again after `stop_dhcp/1`."
  @spec start_dhcp(t()) :: :ok | {:error, term()}
  def start_dhcp(rig), do: GenServer.call(rig.server, :start_dhcp, 15_000)

  @doc "Stops dnsmasq (nothing answers DHCP until `start_dhcp/1`)."
  @spec stop_dhcp(t()) :: :ok
  def stop_dhcp(rig), do: GenServer.call(rig.server, :stop_dhcp, 15_000)

  @doc "The OS pid of the running dnsmasq, or nil."
  @spec dhcp_server_pid(t()) :: pos_integer() | nil
  def dhcp_server_pid(rig), do: GenServer.call(rig.server, :dhcp_server_pid)

  @doc "Takes the network side's end of the veth down: the device end loses its carrier."
  @spec link_down(t()) :: :ok | {:error, term()}
  def link_down(rig), do: set_link(rig, "down")

  @doc "Brings the network side's end of the veth back up."
  @spec link_up(t()) :: :ok | {:error, term()}
  def link_up(rig), do: set_link(rig, "up")

  @doc """
  The modem goes away, as USB re-enumeration takes its net device: the
  device end of the veth is deleted (under whatever name it has now: the
  library may have renamed it), and with it the network side's end.
  """
  @spec unplug_device(t()) :: :ok
  def unplug_device(rig) do
    for name <- device_links(rig), do: ip(["-n", rig.device_ns, "link", "del", name])
    :ok
  end

  @doc """
  The modem's net device appears again under the kernel's name
  (`rig.ifname`, with its MAC), joined to a new network side end with the
  network's address; DHCP and the far end keep running.
  """
  @spec plug_device(t()) :: :ok | {:error, term()}
  def plug_device(rig) do
    dev = rig.device_ns
    net = rig.network_ns

    [
      ["-n", dev, "link", "add", rig.ifname, "type", "veth", "peer", "name", rig.peer_ifname, "netns", net],
      rig.mac && ["-n", dev, "link", "set", rig.ifname, "address", rig.mac],
      ["-n", net, "addr", "add", "#{rig.network_address}/#{rig.prefix_length}", "dev", rig.peer_ifname],
      ["-n", net, "link", "set", rig.peer_ifname, "up"]
    ]
    |> Enum.reject(&is_nil/1)
    |> Enum.reduce_while(:ok, fn args, :ok ->
      case ip(args) do
        {_, 0} -> {:cont, :ok}
        {out, status} -> {:halt, {:error, {:ip_failed, args, status, String.trim(out)}}}
      end
    end)
    |> restart_dhcp(rig)
  end

  # dnsmasq bound to the old network side end: it starts again on the new one.
  defp restart_dhcp(:ok, rig) do
    if dhcp_server_pid(rig) do
      :ok = stop_dhcp(rig)
      start_dhcp(rig)
    else
      :ok
    end
  end

  defp restart_dhcp(error, _rig), do: error

  @doc "The links of the device namespace but `lo`, by name."
  @spec device_links(t()) :: [String.t()]
  def device_links(rig) do
    case ip(["-n", rig.device_ns, "-o", "link", "show"]) do
      {out, 0} ->
        for line <- String.split(out, "\n", trim: true),
            [_, name] <- [Regex.run(~r/^\d+:\s+([^:@\s]+)/, line)],
            name != "lo",
            do: name

      _ ->
        []
    end
  end

  defp set_link(rig, state) do
    case ip(["-n", rig.network_ns, "link", "set", rig.peer_ifname, state]) do
      {_, 0} -> :ok
      {out, status} -> {:error, {:ip_failed, status, String.trim(out)}}
    end
  end

  @doc """
  Runs `argv` inside the device namespace (`ip netns exec`, which also mounts
  that namespace's /sys) and returns `{output, exit_status}`, stderr
  included. `:timeout` (ms, default 10 000) bounds it: the command is killed
  then and the status is 124 or 137, as `timeout(1)` reports.
  """
  @spec device_cmd(t(), [String.t()], keyword()) :: {String.t(), non_neg_integer()}
  def device_cmd(rig, argv, opts \\ []), do: ns_cmd(rig.device_ns, argv, opts)

  @doc "Like `device_cmd/3`, in the network namespace."
  @spec network_cmd(t(), [String.t()], keyword()) :: {String.t(), non_neg_integer()}
  def network_cmd(rig, argv, opts \\ []), do: ns_cmd(rig.network_ns, argv, opts)

  defp ns_cmd(ns, argv, opts) do
    ms = Keyword.get(opts, :timeout, 10_000)
    seconds = :erlang.float_to_binary(ms / 1000, decimals: 3)

    System.cmd(
      find(:timeout),
      ["-k", "2", seconds, find(:ip), "netns", "exec", ns | argv],
      stderr_to_stdout: true
    )
  end

  @doc "The device end's `operstate` as the kernel shows it in sysfs (\"up\", \"down\", ...)."
  @spec operstate(t()) :: {:ok, String.t()} | {:error, term()}
  def operstate(rig) do
    case device_cmd(rig, ["cat", "/sys/class/net/#{rig.ifname}/operstate"]) do
      {out, 0} -> {:ok, String.trim(out)}
      {out, status} -> {:error, {:cat_failed, status, String.trim(out)}}
    end
  end

  @doc """
  Runs busybox's udhcpc on the device end in the foreground, as vintage_net
  does, once (`-f -q -n`): `tries` discovers (`:tries`, default 4) one
  second apart. Its script applies the lease with `ip` (address, default
  route) and writes what udhcpc passed it to the temp dir.

  `{:ok, lease}` with udhcpc's variables (`"ip"`, `"mask"`, `"router"`,
  `"dns"`, `"serverid"`, ...), or `{:error, {:no_lease, exit_status,
  output}}`.
  """
  @spec run_udhcpc(t(), keyword()) :: {:ok, %{String.t() => String.t()}} | {:error, term()}
  def run_udhcpc(rig, opts \\ []) do
    tries = Keyword.get(opts, :tries, 4)
    lease_file = Path.join(rig.dir, "udhcpc.bound")
    File.rm(lease_file)

    argv = [
      find(:udhcpc),
      "-f",
      "-q",
      "-n",
      "-i",
      rig.ifname,
      "-s",
      Path.join(rig.dir, "udhcpc.script"),
      "-t",
      Integer.to_string(tries),
      "-T",
      "1",
      "-A",
      "1"
    ]

    {out, status} = device_cmd(rig, argv, timeout: (tries + 5) * 1000)

    with 0 <- status,
         {:ok, text} <- File.read(lease_file) do
      {:ok, parse_env(text)}
    else
      _ -> {:error, {:no_lease, status, out}}
    end
  end

  defp parse_env(text) do
    for line <- String.split(text, "\n", trim: true),
        [key, value] <- [String.split(line, "=", parts: 2)],
        into: %{},
        do: {key, value}
  end

  @doc """
  Connects from the device namespace to the far address with busybox nc and
  returns `{:ok, greeting}` (the listener's line) or `{:error, {status,
  output}}`.
  """
  @spec reach_far_end(t(), keyword()) :: {:ok, String.t()} | {:error, term()}
  def reach_far_end(rig, opts \\ []) do
    argv = [find(:busybox), "nc", "-w", "3", rig.far_address, Integer.to_string(rig.far_port)]

    case device_cmd(rig, argv, timeout: Keyword.get(opts, :timeout, 6000)) do
      {"vnc13 far end" <> _ = out, 0} -> {:ok, String.trim(out)}
      {out, status} -> {:error, {status, out}}
    end
  end

  @doc "The peer addresses the far end's listener accepted, oldest first."
  @spec far_end_peers(t()) :: [String.t()]
  def far_end_peers(rig), do: GenServer.call(rig.server, :peers)

  @doc "dnsmasq's lease file as `[%{mac: _, ip: _}]`."
  @spec leases(t()) :: [%{mac: String.t(), ip: String.t()}]
  def leases(rig) do
    case File.read(Path.join(rig.dir, "dnsmasq.leases")) do
      {:ok, text} ->
        for line <- String.split(text, "\n", trim: true),
            [_expiry, mac, ip | _] <- [String.split(line, " ", trim: true)],
            do: %{mac: mac, ip: ip}

      {:error, _} ->
        []
    end
  end

  @doc "dnsmasq's log (for failure messages)."
  @spec dhcp_log(t()) :: String.t()
  def dhcp_log(rig) do
    case File.read(Path.join(rig.dir, "dnsmasq.log")) do
      {:ok, text} -> text
      {:error, reason} -> "(no dnsmasq log: #{inspect(reason)})"
    end
  end

  # ---------------------------------------------------------------------------
  # The server: owns dnsmasq's port and the listener; tears down on exit.

  @impl GenServer
  def init({rig, opts}) do
    Process.flag(:trap_exit, true)
    state = %{rig: rig, dnsmasq: nil, dnsmasq_output: "", listen: nil, peers: []}

    with :ok <- File.mkdir_p(rig.dir),
         :ok <- write_udhcpc_script(rig),
         :ok <- build(rig),
         {:ok, state} <- start_listener(state),
         {:ok, state} <- maybe_start_dnsmasq(state, Keyword.get(opts, :dhcp, true)),
         :ok <- await_device_up(rig, System.monotonic_time(:millisecond) + 5000) do
      {:ok, state}
    else
      {:error, reason} ->
        teardown(rig)
        {:stop, reason}
    end
  end

  defp maybe_start_dnsmasq(state, true), do: start_dnsmasq(state)
  defp maybe_start_dnsmasq(state, false), do: {:ok, state}

  defp build(rig) do
    dev = rig.device_ns
    net = rig.network_ns
    cidr = "#{rig.network_address}/#{rig.prefix_length}"

    steps =
      [
        ["netns", "add", dev],
        ["netns", "add", net],
        # Made inside the device namespace, the peer inside the network one:
        # never in the host's, where the names could clash.
        ["-n", dev, "link", "add", rig.ifname, "type", "veth", "peer", "name", rig.peer_ifname] ++
          ["netns", net],
        rig.mac && ["-n", dev, "link", "set", rig.ifname, "address", rig.mac],
        ["-n", dev, "link", "set", "lo", "up"],
        ["-n", net, "link", "set", "lo", "up"],
        ["-n", net, "addr", "add", "#{rig.far_address}/32", "dev", "lo"],
        ["-n", net, "addr", "add", cidr, "dev", rig.peer_ifname],
        ["-n", net, "link", "set", rig.peer_ifname, "up"],
        ["-n", dev, "link", "set", rig.ifname, "up"]
      ]
      |> Enum.reject(&is_nil/1)

    Enum.reduce_while(steps, :ok, fn args, :ok ->
      case ip(args) do
        {_, 0} -> {:cont, :ok}
        {out, status} -> {:halt, {:error, {:ip_failed, args, status, String.trim(out)}}}
      end
    end)
  end

  # The kernel sets the operstate of the device end shortly after both ends
  # are up (link watch): the rig is ready then.
  defp await_device_up(rig, deadline) do
    case operstate(rig) do
      {:ok, "up"} ->
        :ok

      other ->
        if System.monotonic_time(:millisecond) > deadline do
          {:error, {:device_end_not_up, other}}
        else
          Process.sleep(20)
          await_device_up(rig, deadline)
        end
    end
  end

  defp write_udhcpc_script(rig) do
    ip = find(:ip)
    bound = Path.join(rig.dir, "udhcpc.bound")

    script = """
    #!/bin/sh
    # udhcpc calls this with deconfig, bound, renew, leasefail or nak.
    case "$1" in
      deconfig)
        #{ip} addr flush dev "$interface"
        #{ip} link set "$interface" up
        ;;
      bound|renew)
        #{ip} addr flush dev "$interface"
        #{ip} addr add "$ip/${mask:-24}" dev "$interface"
        if [ -n "$router" ]; then
          set -- $router
          #{ip} route replace default via "$1" dev "$interface"
        fi
        for v in interface ip mask subnet router dns serverid lease domain; do
          eval "printf '%s=%s\\n' $v \\"\\$$v\\""
        done > "#{bound}.tmp"
        mv "#{bound}.tmp" "#{bound}"
        ;;
    esac
    exit 0
    """

    path = Path.join(rig.dir, "udhcpc.script")

    with :ok <- File.write(path, script) do
      File.chmod(path, 0o755)
    end
  end

  defp start_listener(state) do
    rig = state.rig
    {:ok, far} = :inet.parse_address(String.to_charlist(rig.far_address))

    opts = [
      :binary,
      active: false,
      reuseaddr: true,
      ip: far,
      netns: String.to_charlist(Path.join(@netns_dir, rig.network_ns))
    ]

    case :gen_tcp.listen(rig.far_port, opts) do
      {:ok, listen} ->
        server = self()
        spawn_link(fn -> accept_loop(listen, server) end)
        {:ok, %{state | listen: listen}}

      {:error, reason} ->
        {:error, {:listen_failed, reason}}
    end
  end

  defp accept_loop(listen, server) do
    case :gen_tcp.accept(listen) do
      {:ok, socket} ->
        peer =
          case :inet.peername(socket) do
            {:ok, {address, _port}} -> address |> :inet.ntoa() |> to_string()
            {:error, reason} -> "unknown (#{inspect(reason)})"
          end

        send(server, {:peer, peer})
        :gen_tcp.send(socket, "vnc13 far end: hello #{peer}\n")
        :gen_tcp.close(socket)
        accept_loop(listen, server)

      {:error, :closed} ->
        :ok

      {:error, reason} ->
        exit({:accept_failed, reason})
    end
  end

  defp start_dnsmasq(%{dnsmasq: port} = state) when is_port(port), do: {:ok, state}

  defp start_dnsmasq(state) do
    rig = state.rig
    {first, last} = rig.dhcp_range
    pid_file = Path.join(rig.dir, "dnsmasq.pid")
    File.rm(pid_file)

    args = [
      "netns",
      "exec",
      rig.network_ns,
      find(:dnsmasq),
      "--keep-in-foreground",
      "--conf-file=/dev/null",
      "--no-resolv",
      "--no-hosts",
      "--no-poll",
      "--bind-interfaces",
      "--interface=#{rig.peer_ifname}",
      "--except-interface=lo",
      "--user=root",
      "--group=root",
      "--pid-file=#{pid_file}",
      "--dhcp-leasefile=#{Path.join(rig.dir, "dnsmasq.leases")}",
      "--log-facility=#{Path.join(rig.dir, "dnsmasq.log")}",
      "--log-dhcp",
      # dnsmasq pings an address before offering it, up to 3 s: longer than
      # a client's first tries. The namespace holds no one else.
      "--no-ping",
      "--dhcp-authoritative",
      "--dhcp-range=#{first},#{last},#{prefix_to_netmask(rig.prefix_length)},1h",
      "--dhcp-option=option:router,#{rig.network_address}",
      "--dhcp-option=option:dns-server,#{rig.network_address}",
      "--address=/far.vnc13.test/#{rig.far_address}"
    ]

    port =
      Port.open({:spawn_executable, find(:ip)}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        args: args
      ])

    state = %{state | dnsmasq: port, dnsmasq_output: ""}
    await_pid_file(state, pid_file, System.monotonic_time(:millisecond) + 10_000)
  end

  # dnsmasq writes its pid file once its sockets are bound.
  defp await_pid_file(state, pid_file, deadline) do
    port = state.dnsmasq

    receive do
      {^port, {:data, data}} ->
        await_pid_file(%{state | dnsmasq_output: state.dnsmasq_output <> data}, pid_file, deadline)

      {^port, {:exit_status, status}} ->
        {:error, {:dnsmasq_exited, status, state.dnsmasq_output <> dhcp_log(state.rig)}}
    after
      50 ->
        case File.read(pid_file) do
          {:ok, text} when text != "" ->
            {:ok, state}

          _ ->
            if System.monotonic_time(:millisecond) > deadline do
              {:error, {:dnsmasq_not_ready, state.dnsmasq_output <> dhcp_log(state.rig)}}
            else
              await_pid_file(state, pid_file, deadline)
            end
        end
    end
  end

  defp stop_dnsmasq(%{dnsmasq: nil} = state), do: state

  defp stop_dnsmasq(%{dnsmasq: port} = state) do
    case Port.info(port, :os_pid) do
      {:os_pid, os_pid} ->
        System.cmd("kill", ["-TERM", Integer.to_string(os_pid)], stderr_to_stdout: true)

        receive do
          {^port, {:exit_status, _}} -> :ok
        after
          5000 ->
            System.cmd("kill", ["-KILL", Integer.to_string(os_pid)], stderr_to_stdout: true)
        end

      nil ->
        :ok
    end

    %{state | dnsmasq: nil}
  end

  defp prefix_to_netmask(bits) do
    <<a, b, c, d>> = <<Bitwise.bsl(0xFFFFFFFF, 32 - bits)::32>>
    Enum.join([a, b, c, d], ".")
  end

  @impl GenServer
  def handle_call(:start_dhcp, _from, state) do
    case start_dnsmasq(state) do
      {:ok, state} -> {:reply, :ok, state}
      {:error, reason} -> {:reply, {:error, reason}, %{state | dnsmasq: nil}}
    end
  end

  def handle_call(:stop_dhcp, _from, state), do: {:reply, :ok, stop_dnsmasq(state)}

  def handle_call(:dhcp_server_pid, _from, %{dnsmasq: nil} = state), do: {:reply, nil, state}

  def handle_call(:dhcp_server_pid, _from, state) do
    case Port.info(state.dnsmasq, :os_pid) do
      {:os_pid, pid} -> {:reply, pid, state}
      nil -> {:reply, nil, state}
    end
  end

  def handle_call(:peers, _from, state), do: {:reply, Enum.reverse(state.peers), state}

  @impl GenServer
  def handle_info({:peer, peer}, state), do: {:noreply, %{state | peers: [peer | state.peers]}}

  def handle_info({port, {:data, data}}, %{dnsmasq: port} = state),
    do: {:noreply, %{state | dnsmasq_output: state.dnsmasq_output <> data}}

  def handle_info({port, {:exit_status, _}}, %{dnsmasq: port} = state),
    do: {:noreply, %{state | dnsmasq: nil}}

  def handle_info({:EXIT, _pid, reason}, state) when reason in [:normal, :shutdown],
    do: {:noreply, state}

  def handle_info({:EXIT, _pid, reason}, state), do: {:stop, reason, state}

  def handle_info(_other, state), do: {:noreply, state}

  @impl GenServer
  def terminate(_reason, state) do
    state = stop_dnsmasq(state)
    if state.listen, do: :gen_tcp.close(state.listen)
    teardown(state.rig)
  end

  defp ip(args), do: System.cmd(find(:ip) || "ip", args, stderr_to_stdout: true)
end
