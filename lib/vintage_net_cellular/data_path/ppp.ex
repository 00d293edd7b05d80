defmodule VintageNetCellular.DataPath.PPP do
  @moduledoc """
  The PPP data path: pppd (under `MuonTrap.Daemon`, in the interface's worker
  supervisor) dials the modem's PPP port with this application's dialer
  (`cellular_port dial <cid>` as pppd's `connect`) and the options of
  `VintageNetCellular.PPP`.

  What it knows that the connection manager doesn't:

  * **The device pppd holds.** pppd only opens ttys under /dev; a tty linked
    from another `dev_root` (the tests' fixture) is given as the device it
    links to. `check/2` fails when the modem's PPP tty is no longer that
    device (its driver rebound while pppd held the old node).
  * **pppd's OS process.** MuonTrap's process outlives its Daemon (SIGTERM,
    then SIGKILL up to 500 ms later), so a stopped pppd is remembered for up
    to #{3_000} ms and `exiting?/1` says when the next one may start. A pppd
    killed behind its Daemon's back (its exit can wait on a pipe a child
    still holds) is seen gone in /proc by `check/2`.
  * **Leftovers.** An interface's pppd names its notifier socket (`ipparam`)
    on its command line: `cleanup/2` ends any such pppd that nothing owns any
    more (a killed manager's). Its dialer, if it was still dialing, gives up
    by itself within its timeouts (10 s for `OK`, 30 s for `CONNECT`).
  * **Its own events.** pppd passes its pid to the ip-up/ip-down scripts
    (`PPPD_PID`); an event naming another pppd is a leftover's
    (`foreign_event?/2`).
  * **What its exit statuses mean** (`exited/2`).

      iex> alias VintageNetCellular.DataPath.PPP
      iex> path = PPP.new()
      iex> {PPP.running?(path), PPP.exiting?(path)}
      {false, false}
      iex> PPP.foreign_event?(path, %{env: %{"PPPD_PID" => "4242"}})
      true
      iex> PPP.exited(path, {:exit_status, 19}) |> elem(0)
      "pppd exited: authentication failed (check username and password)"
  """

  @behaviour VintageNetCellular.DataPath

  require Logger

  alias VintageNetCellular.Interface
  alias VintageNetCellular.PPP

  @compile {:no_warn_undefined, [MuonTrap.Daemon]}
  @muontrap MuonTrap.Daemon

  # How long a stopped pppd is waited for (a pid reused after that is
  # someone else's).
  @old_wait_ms 3_000

  @typedoc """
  `daemon`: `{monitor, pid}` of the running pppd's Daemon; `os_pid` and
  `device`: its OS process and the tty it was given; `old`: `{os_pid,
  deadline}` of what was stopped last; `version`: pppd's, once asked;
  `clean?`: a cleanup found nothing of this interface and no pppd of ours
  has run since (so none can have been left behind).
  """
  @type t() :: %{
          daemon: {reference(), pid()} | nil,
          os_pid: pos_integer() | nil,
          device: String.t() | nil,
          old: {pos_integer(), integer()} | nil,
          version: PPP.version() | nil,
          clean?: boolean()
        }

  @impl true
  @spec new() :: t()
  def new(), do: %{daemon: nil, os_pid: nil, device: nil, old: nil, version: nil, clean?: false}

  @impl true
  @spec cleanup(t(), VintageNetCellular.DataPath.context()) :: t()
  # Nothing can have been left behind since the last cleanup found nothing
  # and no pppd of ours ran: the /proc scan (a few ms) is skipped.
  def cleanup(%{clean?: true} = path, _ctx), do: path

  def cleanup(path, ctx) do
    marker = Interface.paths(ctx.ifname, ctx.settings).socket

    # The command line first: it rules out nearly every process in one read.
    leftovers = for pid <- os_pids(), pid != path.os_pid, cmdline_has?(pid, marker), process_running?(pid), do: pid

    Enum.each(leftovers, &safe_cmd("kill", ["-TERM", Integer.to_string(&1)]))

    case leftovers do
      [] ->
        %{path | clean?: path.daemon == nil}

      [first | _] ->
        Logger.info(
          "[vintage_net_cellular] #{ctx.ifname}: ended #{length(leftovers)} leftover pppd process(es): " <>
            inspect(leftovers)
        )

        %{path | old: {first, System.monotonic_time(:millisecond) + @old_wait_ms}}
    end
  end

  @impl true
  @spec start(t(), VintageNetCellular.DataPath.context()) :: {:ok, t()} | {:error, String.t()}
  def start(path, ctx) do
    settings = ctx.settings
    provider = ctx.provider
    paths = Interface.paths(ctx.ifname, settings)

    File.mkdir_p!(settings.tmpdir)

    credentials? = is_binary(provider.username)

    if credentials? do
      PPP.write_secret_file!(paths.options_file, PPP.options_file(provider.username, provider.password || ""))
    end

    version = path.version || settings.pppd_version || detect_version(settings.pppd)
    device = device(ctx)

    args =
      PPP.pppd_args(
        ifname: ctx.ifname,
        tty: device,
        speed: ctx.config.speed,
        flow_control: ctx.config.flow_control,
        tmpdir: settings.tmpdir,
        pdp_type: provider.pdp_type,
        dns: ctx.config.dns || [],
        pppd_version: version,
        credentials?: credentials?,
        cid: ctx.cid,
        dialer: settings.dialer || PPP.dialer_path(),
        debug: settings.pppd_debug,
        holdoff: settings.pppd_holdoff
      )

    opts =
      [
        stderr_to_stdout: true,
        log_output: :debug,
        log_prefix: "pppd(#{ctx.ifname}): ",
        exit_status_to_reason: &{:exit_status, &1}
      ] ++ settings.muontrap_options

    spec = Supervisor.child_spec({@muontrap, [settings.pppd, args, opts]}, id: :pppd, restart: :temporary)

    case DynamicSupervisor.start_child(ctx.workers, spec) do
      {:ok, pid} ->
        ref = Process.monitor(pid)
        os_pid = with {os_pid, _until} <- os_pid(pid), do: os_pid
        {:ok, %{path | daemon: {ref, pid}, os_pid: os_pid, device: device, old: nil, version: version, clean?: false}}

      other ->
        {:error, inspect(other)}
    end
  rescue
    e -> {:error, Exception.message(e)}
  end

  @impl true
  @spec stop(t(), VintageNetCellular.DataPath.context()) :: t()
  def stop(%{daemon: nil} = path, _ctx), do: path

  def stop(%{daemon: {ref, pid}} = path, ctx) do
    Process.demonitor(ref, [:flush])
    old = os_pid(pid)
    _ = DynamicSupervisor.terminate_child(ctx.workers, pid)
    %{path | daemon: nil, os_pid: nil, device: nil, old: old}
  end

  @impl true
  @spec running?(t()) :: boolean()
  def running?(%{daemon: daemon}), do: daemon != nil

  # Linux: gone when /proc has no such process, or only its zombie. Waited
  # for at most @old_wait_ms (a pid reused by then is someone else).
  @impl true
  @spec exiting?(t()) :: boolean()
  def exiting?(%{old: nil}), do: false

  def exiting?(%{old: {os_pid, until}}) do
    System.monotonic_time(:millisecond) < until and process_running?(os_pid)
  end

  @impl true
  @spec check(t(), VintageNetCellular.DataPath.context()) :: :ok | {:failed, String.t()}
  def check(%{daemon: nil}, _ctx), do: :ok

  def check(path, ctx) do
    cond do
      # pppd's OS process is gone but its Daemon has not said so (its exit
      # can wait on a pipe that something pppd started still holds open).
      path.os_pid != nil and not process_running?(path.os_pid) ->
        {:failed, "pppd exited: its process is gone (killed?)"}

      # The PPP port's tty closed under pppd and came back as another device
      # (its driver rebound while pppd held the old node): pppd, with
      # persist, would redial the old one until the dial timeout.
      path.device != nil and device(ctx) != path.device ->
        {:failed, "the modem's PPP tty is no longer the device pppd holds; dialing again"}

      true ->
        :ok
    end
  end

  @impl true
  @spec owns?(t(), reference()) :: boolean()
  def owns?(%{daemon: {ref, _pid}}, ref), do: true
  def owns?(_path, _ref), do: false

  @impl true
  @spec exited(t(), term()) :: {String.t(), t()}
  def exited(path, reason), do: {"pppd exited: #{exit_reason(reason)}", %{path | daemon: nil, os_pid: nil, device: nil}}

  # pppd passes its pid to the ip-up/ip-down scripts (PPPD_PID). An event
  # that names another pppd than the one running is a leftover's.
  @impl true
  @spec foreign_event?(t(), map()) :: boolean()
  def foreign_event?(%{os_pid: ours}, event) when is_integer(ours) do
    case event_pppd_pid(event) do
      nil -> false
      theirs -> theirs != ours
    end
  end

  def foreign_event?(%{daemon: nil}, event), do: event_pppd_pid(event) != nil
  def foreign_event?(_path, _event), do: false

  @impl true
  @spec describe(VintageNetCellular.DataPath.moment(), term()) :: String.t()
  def describe(:starting, %{apn: apn}), do: "pppd is dialing APN #{apn}"
  def describe(:up, %{local: local, remote: remote}), do: "PPP is up: #{format_ip(local)} via #{format_ip(remote)}"
  def describe(:down, _), do: "the PPP link went down; pppd redials"
  def describe(:timeout, seconds), do: "pppd did not bring the link up within #{seconds} s"
  def describe(:start_failed, reason), do: "could not start pppd: #{reason}"

  defp format_ip(ip) when is_tuple(ip), do: ip |> :inet.ntoa() |> to_string()
  defp format_ip(_), do: "?"

  @doc "Whether an OS process runs (Linux /proc; a zombie does not count)."
  @spec process_running?(integer()) :: boolean()
  def process_running?(os_pid) do
    case File.read("/proc/#{os_pid}/stat") do
      {:ok, stat} ->
        # "pid (comm) state ...": comm may hold spaces or parentheses.
        state = stat |> String.split(")") |> List.last() |> String.trim_leading() |> String.first()
        state not in [nil, "Z", "X"]

      {:error, _} ->
        false
    end
  end

  defp exit_reason({:exit_status, 8}),
    do: "the connect program failed (the dialer got no CONNECT; its reason is in pppd's log)"

  defp exit_reason({:exit_status, 16}), do: "the modem hung up"
  defp exit_reason({:exit_status, 5}), do: "it was stopped"
  defp exit_reason({:exit_status, 19}), do: "authentication failed (check username and password)"
  defp exit_reason({:exit_status, 7}), do: "the PPP kernel support is missing"
  defp exit_reason({:exit_status, status}), do: "exit status #{status}"
  defp exit_reason(:normal), do: "exit status 0"
  defp exit_reason(other), do: inspect(other)

  defp device(ctx), do: tty_device(ctx.modem.ppp_tty || ctx.modem.at_tty, ctx.settings.dev_root)

  # pppd only opens ttys under /dev. A tty under another dev_root (tests
  # link ptys there under their ttyUSB names) is given as the device it links to.
  defp tty_device("/dev/" <> _ = path, _dev_root), do: path
  defp tty_device(tty, "/dev"), do: tty

  defp tty_device(tty, dev_root) do
    path = Path.join(dev_root, tty)

    case File.read_link(path) do
      {:ok, "/dev/" <> _ = target} -> target
      _ -> tty
    end
  end

  # pppd 2.4.9 prints "pppd version 2.4.9" on stdout (older ones on stderr).
  # When it can't be asked, assume 2.4.9: the IPv4 scripts work from there.
  defp detect_version(pppd) do
    with {out, _status} <- safe_cmd(pppd, ["--version"]),
         {:ok, version} <- PPP.parse_version(out) do
      version
    else
      _ -> {2, 4, 9}
    end
  end

  defp safe_cmd(cmd, args) do
    System.cmd(cmd, args, stderr_to_stdout: true)
  rescue
    _ -> nil
  end

  # MuonTrap's OS process outlives its Daemon: SIGTERM, then SIGKILL up to
  # 500 ms later. Remembered so that the next pppd, or an AT port on the same
  # tty, waits until it is gone.
  defp os_pid(pid) do
    case @muontrap.os_pid(pid) do
      os_pid when is_integer(os_pid) and os_pid > 0 ->
        {os_pid, System.monotonic_time(:millisecond) + @old_wait_ms}

      _ ->
        nil
    end
  catch
    :exit, _ -> nil
  end

  defp os_pids do
    case File.ls("/proc") do
      {:ok, entries} ->
        me = System.pid()
        for entry <- entries, entry != me, {pid, ""} <- [Integer.parse(entry)], do: pid

      {:error, _} ->
        []
    end
  end

  # The path ends an argument (NUL) or a word of one (the connect command):
  # ppp1.notify must not match ppp10.notify.
  defp cmdline_has?(pid, marker) do
    case File.read("/proc/#{pid}/cmdline") do
      {:ok, cmdline} -> String.contains?(cmdline, [marker <> <<0>>, marker <> " "])
      {:error, _} -> false
    end
  end

  defp event_pppd_pid(%{env: %{"PPPD_PID" => pid}}) when is_binary(pid) do
    case Integer.parse(pid) do
      {n, ""} -> n
      _ -> nil
    end
  end

  defp event_pppd_pid(_event), do: nil
end
