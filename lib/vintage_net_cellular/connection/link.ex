defmodule VintageNetCellular.Connection.Link do
  @moduledoc """
  The link once the data path is up: routes, DNS and the connection status
  in VintageNet, the internet check and the statistics poller.

  VintageNet's own machinery does the work (`VintageNet.RouteManager`,
  `VintageNet.NameResolver`, `VintageNet.Connectivity.InternetChecker`): this
  module only calls it at the right moments for the connection manager
  (`VintageNetCellular.Connection`), whose data it takes and returns
  (`ifname`, `config`, `settings`, `workers`, `link`, `checker`, `stats`).

  The routes go to VintageNet only once the kernel has the interface
  (`present?/1`): RouteManager crashes, and takes every interface with it, on
  one the kernel doesn't have.
  """

  import VintageNetCellular.Connection.Log, only: [log: 3]

  # Provided by vintage_net in every app that uses this library; referenced
  # only at run time.
  @compile {:no_warn_undefined,
            [VintageNet, VintageNet.RouteManager, VintageNet.NameResolver, VintageNet.Connectivity.InternetChecker]}
  @vintage_net VintageNet
  @route_manager VintageNet.RouteManager
  @name_resolver VintageNet.NameResolver
  @internet_checker VintageNet.Connectivity.InternetChecker

  @typedoc "The connection manager's data."
  @type data :: map()

  # pppd said ip-up. The routes, DNS and connection status go to VintageNet
  # only once the kernel's interface is `present`: RouteManager crashes (and
  # takes every interface with it) on one the kernel doesn't have.
  @doc "The data path's link came up (`event`: `local`, `remote`, `dns`)."
  @spec up(data(), map()) :: data()
  def up(data, event) do
    link = %{
      local: event.local,
      remote: event.remote,
      dns: data.config.dns || event.dns,
      applied?: false,
      # A USB network function's routes, DNS and connection status are
      # VintageNet's own (its udhcpc handler and InternetChecker).
      managed?: Map.get(event, :via) == :usb_net
    }

    data = %{stop_checker(data) | link: link}

    if present?(data.ifname) do
      activate(data)
    else
      log(data, :info, "the link is up; waiting for the kernel's #{data.ifname} to appear before setting routes")
      data
    end
  end

  @doc """
  Gives the link to VintageNet: route, DNS, connection `:lan`, then the
  InternetChecker and the statistics poller. A VintageNet that is
  restarting leaves the link not applied (`up/2` and the `present`
  property try again).
  """
  @spec activate(data()) :: data()
  def activate(%{link: %{managed?: true} = link} = data) do
    if data.config.dns, do: @name_resolver.setup(data.ifname, nil, data.config.dns)
    %{data | link: %{link | applied?: true}, stats: start_stats(data)}
  catch
    :exit, _ -> data
  end

  def activate(%{link: link, ifname: ifname} = data) do
    @route_manager.set_route(ifname, [{link.local, 32}], link.remote)
    if link.dns != [], do: @name_resolver.setup(ifname, nil, link.dns)
    @route_manager.set_connection_status(ifname, :lan, "PPP is up")

    checker =
      case DynamicSupervisor.start_child(
             data.workers,
             Supervisor.child_spec({@internet_checker, ifname}, id: :internet_checker, restart: :temporary)
           ) do
        {:ok, pid} -> {Process.monitor(pid), pid}
        _ -> nil
      end

    %{data | link: %{link | applied?: true}, checker: checker, stats: start_stats(data)}
  catch
    # VintageNet restarting under us: the link stays recorded as not applied,
    # and is applied when the interface is reported present again.
    :exit, reason ->
      log(data, :warning, "VintageNet did not take the routes for #{ifname}: #{inspect(reason)}")
      data
  end

  @doc "Starts the statistics poller (`VintageNetCellular.Statistics`) under the workers."
  @spec start_stats(data()) :: {reference(), pid()} | nil
  def start_stats(data) do
    opts = [
      ifname: data.ifname,
      sysfs_root: data.settings.sysfs_root,
      interval: Map.get(data.settings, :statistics_interval, VintageNetCellular.Statistics.default_interval())
    ]

    case DynamicSupervisor.start_child(data.workers, {VintageNetCellular.Statistics, opts}) do
      {:ok, pid} -> {Process.monitor(pid), pid}
      _ -> nil
    end
  end

  @doc "Whether the kernel has the interface (VintageNet's `present` property)."
  @spec present?(String.t()) :: boolean()
  def present?(ifname), do: @vintage_net.get(["interface", ifname, "present"]) == true

  @doc "The link went down: routes, DNS and the connection status cleared, its workers stopped."
  @spec down(data()) :: data()
  def down(%{link: nil} = data), do: stop_checker(data)

  def down(data) do
    clear(data)
    %{stop_checker(data) | link: nil}
  end

  defp clear(data) do
    @route_manager.clear_route(data.ifname)
    @name_resolver.clear(data.ifname)
    @route_manager.set_connection_status(data.ifname, :disconnected, "PPP is down")
  catch
    :exit, _ -> :ok
  end

  # The link's workers: InternetChecker and the statistics poller.
  defp stop_checker(data) do
    %{data | checker: stop_worker(data, data.checker), stats: stop_worker(data, data.stats)}
  end

  @doc "Stops a worker the manager monitors (`{ref, pid}`), or nothing."
  @spec stop_worker(data(), {reference(), pid()} | nil) :: nil
  def stop_worker(_data, nil), do: nil

  def stop_worker(data, {ref, pid}) do
    Process.demonitor(ref, [:flush])
    _ = DynamicSupervisor.terminate_child(data.workers, pid)
    nil
  end
end
