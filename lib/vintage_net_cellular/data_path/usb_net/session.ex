defmodule VintageNetCellular.DataPath.USBNet.Session do
  @moduledoc """
  One connection over a modem's USB network function (see
  `VintageNetCellular.DataPath.USBNet`): the data call, the interface
  name, VintageNet's DHCP machinery, and link reports to the connection
  manager.

  It runs under the interface's worker supervisor and does its slow work
  (AT commands, `ip`) in its own process, never in the connection manager.
  It ends with `{:shutdown, reason}` (a sentence) when the data call can't
  start, the interface can't be renamed or brought up, or the net device
  goes away; the manager retries.

  Link reports are `{:link_event, %{kind: :ip_up | :ip_down, local: ip,
  via: :usb_net, function: "ECM", session: pid}}`, the shape pppd's events
  have, so the manager treats both paths alike. Routes, DNS and `connection`
  are VintageNet's here (its udhcpc handler and InternetChecker), not the
  manager's.
  """
  use GenServer

  import VintageNetCellular.Connection.Log, only: [log: 3]

  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Connection.BringUp
  alias VintageNetCellular.Connection.UsbNet
  alias VintageNetCellular.Interface

  # Provided by vintage_net in every app that uses this library.
  @compile {:no_warn_undefined, [VintageNet, VintageNet.IP.IPv4Config, VintageNet.Interface.RawConfig]}
  @vintage_net VintageNet
  @ipv4_config VintageNet.IP.IPv4Config
  @raw_config VintageNet.Interface.RawConfig

  @doc false
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts), do: GenServer.start_link(__MODULE__, opts)

  @impl GenServer
  def init(opts) do
    Process.flag(:trap_exit, true)

    state = %{
      ifname: Keyword.fetch!(opts, :ifname),
      netdev: Keyword.fetch!(opts, :netdev),
      function: Keyword.fetch!(opts, :function),
      cid: Keyword.fetch!(opts, :cid),
      manager: Keyword.fetch!(opts, :manager),
      settings: Keyword.fetch!(opts, :settings),
      hostname: Keyword.get(opts, :hostname),
      raw: nil,
      children: nil,
      up: nil,
      connected?: false
    }

    {:ok, state, {:continue, :connect}}
  end

  @impl GenServer
  def handle_continue(:connect, state) do
    with :ok <- at_commands(state, state.function.connect),
         state = %{state | connected?: true},
         :ok <- rename(state),
         {:ok, state} <- start_dhcp(state) do
      @vintage_net.subscribe(["interface", state.ifname, "addresses"])
      @vintage_net.subscribe(["interface", state.ifname, "present"])
      {:noreply, report(state, @vintage_net.get(["interface", state.ifname, "addresses"]))}
    else
      {:error, reason} -> {:stop, {:shutdown, reason}, state}
    end
  end

  @impl GenServer
  def handle_info({VintageNet, ["interface", _, "addresses"], _old, addresses, _meta}, state),
    do: {:noreply, report(state, addresses)}

  def handle_info({VintageNet, ["interface", _, "present"], _old, present, _meta}, state) do
    if present == true,
      do: {:noreply, state},
      else: {:stop, {:shutdown, "the modem's net device #{state.ifname} went away"}, state}
  end

  def handle_info({:EXIT, pid, reason}, %{children: pid} = state),
    do: {:stop, {:shutdown, "VintageNet's DHCP processes for #{state.ifname} stopped: #{inspect(reason)}"}, state}

  def handle_info(_other, state), do: {:noreply, state}

  @impl GenServer
  def terminate(_reason, state) do
    if state.children, do: stop_children(state.children)
    if state.raw, do: run_commands(state, state.raw.down_cmds)
    # Best effort and short: the manager waits for this teardown.
    if state.connected?,
      do: _ = at_commands(%{state | settings: %{state.settings | command_timeout: 1_000}}, state.function.disconnect)

    :ok
  end

  # The data call, on the AT port (the modem's, shared with the monitor).
  defp at_commands(state, commands) do
    Enum.reduce_while(commands, :ok, fn cmd, :ok ->
      case at(state, cmd) do
        {:ok, _} -> {:cont, :ok}
        error -> {:halt, {:error, "#{cmd} failed: #{BringUp.format_error(error)}"}}
      end
    end)
  end

  defp at(state, cmd) do
    ATPort.command(Interface.at_port(state.ifname), cmd, state.settings.command_timeout)
  catch
    :exit, reason -> {:error, {:exit, reason}}
  end

  # The kernel's name (usb0, eth1, enx...) becomes the configured one.
  defp rename(%{netdev: same, ifname: same}), do: :ok

  defp rename(state) do
    log(
      state,
      :info,
      "renaming the modem's #{UsbNet.kind_name(state.function)} device #{state.netdev} to #{state.ifname}"
    )

    with :ok <- ip(state, ["link", "set", "dev", state.netdev, "down"]),
         :ok <- ip(state, ["link", "set", "dev", state.netdev, "name", state.ifname]) do
      :ok
    else
      {:error, output} -> {:error, "could not rename #{state.netdev} to #{state.ifname}: #{output}"}
    end
  end

  defp ip(state, args) do
    case run(state, "ip", args) do
      {_output, 0} -> :ok
      {output, status} -> {:error, "ip #{Enum.join(args, " ")} exited #{status}: #{String.trim(output)}"}
    end
  end

  # VintageNet's DHCP for the interface, as vintage_net_ethernet gets it.
  defp start_dhcp(state) do
    config = Map.merge(%{ipv4: %{method: :dhcp}}, if(state.hostname, do: %{hostname: state.hostname}, else: %{}))

    raw =
      @ipv4_config.add_config(
        struct!(@raw_config,
          ifname: state.ifname,
          type: VintageNetCellular,
          source_config: config,
          required_ifnames: []
        ),
        config,
        Application.get_all_env(:vintage_net)
      )

    state = %{state | raw: raw}

    with :ok <- run_commands(state, raw.up_cmds, :strict),
         {:ok, sup} <- Supervisor.start_link(raw.child_specs, strategy: raw.restart_strategy) do
      {:ok, %{state | children: sup}}
    else
      {:error, reason} when is_binary(reason) -> {:error, reason}
      {:error, reason} -> {:error, "VintageNet's DHCP processes for #{state.ifname} did not start: #{inspect(reason)}"}
    end
  end

  defp stop_children(sup) do
    Supervisor.stop(sup, :shutdown)
  catch
    :exit, _ -> :ok
  end

  defp run_commands(state, commands, mode \\ :lenient) do
    Enum.reduce_while(commands, :ok, fn command, :ok ->
      case {run_command(state, command), mode} do
        {:ok, _} -> {:cont, :ok}
        {{:error, _}, :lenient} -> {:cont, :ok}
        {{:error, reason}, :strict} -> {:halt, {:error, reason}}
      end
    end)
  end

  defp run_command(state, {:run, cmd, args}) do
    case run(state, cmd, args) do
      {_output, 0} -> :ok
      {output, status} -> {:error, "#{cmd} #{Enum.join(args, " ")} exited #{status}: #{String.trim(output)}"}
    end
  end

  defp run_command(state, {:run_ignore_errors, cmd, args}) do
    _ = run(state, cmd, args)
    :ok
  end

  defp run_command(_state, {:fun, fun}), do: fun_result(fun.())
  defp run_command(_state, {:fun, m, f, a}), do: fun_result(apply(m, f, a))
  defp run_command(_state, other), do: {:error, "unknown command #{inspect(other)}"}

  defp fun_result(:ok), do: :ok
  defp fun_result(other), do: {:error, inspect(other)}

  # `ip` may be pointed elsewhere (the `ip_command` setting); the rest is
  # found on the PATH, as VintageNet finds it.
  defp run(state, "ip", args), do: cmd(Map.get(state.settings, :ip_command, "ip"), args)
  defp run(_state, cmd, args), do: cmd(cmd, args)

  defp cmd(program, args) do
    case System.find_executable(program) do
      nil -> {"#{program}: not found", 127}
      path -> System.cmd(path, args, stderr_to_stdout: true)
    end
  rescue
    e -> {Exception.message(e), 126}
  end

  # The link is up while the interface has an IPv4 address.
  defp report(state, addresses) do
    case ipv4(addresses) do
      nil when state.up != nil ->
        send(state.manager, {:link_event, event(state, :ip_down, nil)})
        %{state | up: nil}

      nil ->
        state

      ip when ip == state.up ->
        state

      ip ->
        send(state.manager, {:link_event, event(state, :ip_up, ip)})
        %{state | up: ip}
    end
  end

  defp event(state, kind, ip) do
    %{
      kind: kind,
      local: ip,
      remote: nil,
      dns: [],
      via: :usb_net,
      function: UsbNet.kind_name(state.function),
      session: self()
    }
  end

  defp ipv4(addresses) when is_list(addresses) do
    Enum.find_value(addresses, fn
      %{family: :inet, address: ip} when tuple_size(ip) == 4 -> ip
      _ -> nil
    end)
  end

  defp ipv4(_), do: nil
end
