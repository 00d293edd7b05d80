defmodule VintageNetCellular.DataPath.USBNet do
  @moduledoc """
  The data path over the modem's USB network function (CDC-ECM, CDC-NCM or
  RNDIS): the modem routes, and the host sees an Ethernet interface that
  gets its address by DHCP.

  The bring-up (`VintageNetCellular.Connection.BringUp`) chose the function
  and found its net device; this module runs one
  `VintageNetCellular.DataPath.USBNet.Session` under the interface's
  workers, which:

  1. starts the data call with the function's commands on the AT port (the
     AT port stays the monitor's and `at/3`'s: nothing here holds a tty);
  2. renames the net device to the configured interface name, whatever the
     kernel named it (`usb0`, `eth1`, `wwan0`, `enx...`), so the interface
     VintageNet knows is the one that carries the data;
  3. gives it to VintageNet's own DHCP machinery, exactly what
     vintage_net_ethernet runs for `ipv4: %{method: :dhcp}`
     (`VintageNet.IP.IPv4Config.add_config/3`: `ip link set up`, udhcpc under
     `VintageNet.Interface.IfupDaemon`, and the
     `VintageNet.Connectivity.InternetChecker` that sets `connection`);
  4. reports the link up to the connection manager when the interface has an
     IPv4 address (VintageNet's `addresses` property), and down when it loses
     it; it ends when the net device goes away.

  Stopping it stops udhcpc and the checker, flushes the address, takes the
  link down and ends the data call.
  """
  @behaviour VintageNetCellular.DataPath

  alias VintageNetCellular.DataPath.USBNet.Session

  @impl true
  def new, do: %{session: nil}

  # The session dies with the worker supervisor: nothing of a killed manager
  # outlives it.
  @impl true
  def cleanup(path, _ctx), do: path

  @impl true
  def start(%{session: nil} = path, ctx) do
    opts = [
      ifname: ctx.ifname,
      netdev: ctx.net.netdev,
      function: ctx.net.function,
      cid: ctx.cid,
      manager: self(),
      settings: ctx.settings,
      hostname: Map.get(ctx.config, :hostname)
    ]

    spec = Supervisor.child_spec({Session, opts}, restart: :temporary, id: :usb_net, shutdown: 3_000)

    case DynamicSupervisor.start_child(ctx.workers, spec) do
      {:ok, pid} -> {:ok, %{path | session: {Process.monitor(pid), pid}}}
      {:error, reason} -> {:error, "could not start the USB network session: #{inspect(reason)}"}
    end
  end

  def start(path, _ctx), do: {:ok, path}

  @impl true
  def stop(%{session: nil} = path, _ctx), do: path

  def stop(%{session: {ref, pid}} = path, ctx) do
    Process.demonitor(ref, [:flush])
    _ = DynamicSupervisor.terminate_child(ctx.workers, pid)
    %{path | session: nil}
  end

  @impl true
  def running?(path), do: path.session != nil

  # terminate_child/2 waits for the session's teardown.
  @impl true
  def exiting?(_path), do: false

  @impl true
  def check(%{session: {_ref, pid}}, _ctx) do
    if Process.alive?(pid), do: :ok, else: {:failed, "the USB network session is gone"}
  end

  def check(_path, _ctx), do: :ok

  @impl true
  def owns?(%{session: {ref, _pid}}, ref), do: true
  def owns?(_path, _ref), do: false

  @impl true
  def exited(path, reason), do: {why(reason), %{path | session: nil}}

  defp why({:shutdown, reason}) when is_binary(reason), do: reason
  defp why(reason), do: "the USB network session ended: #{inspect(reason)}"

  @impl true
  def foreign_event?(%{session: {_ref, pid}}, event), do: Map.get(event, :session, pid) != pid
  def foreign_event?(_path, event), do: Map.has_key?(event, :session)

  @impl true
  def describe(:starting, provider),
    do: "starting the data call on the modem's USB network function (APN #{provider && provider.apn})"

  def describe(:up, event),
    do: "connected over #{event[:function] || "the USB network function"} (#{format_ip(event.local)})"

  def describe(:down, _), do: "the USB network link lost its address"
  def describe(:timeout, seconds), do: "no DHCP lease on the modem's network function after #{seconds} s"
  def describe(:start_failed, reason), do: "the USB network function could not start: #{reason}"

  defp format_ip(ip) when is_tuple(ip), do: ip |> :inet.ntoa() |> to_string()
  defp format_ip(other), do: inspect(other)
end
