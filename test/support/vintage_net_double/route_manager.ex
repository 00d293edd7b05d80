defmodule VintageNet.RouteManager do
  @moduledoc """
  Test double of `VintageNet.RouteManager`, the only writer of
  `["interface", ifname, "connection"]` (and of the global `["connection"]`,
  the best status of all interfaces).

  Mirrored rules: `set_route/3` on an unknown interface gives it `:lan`, on a
  known one keeps its status (a repeat with the same routes while `:lan` or
  `:internet` changes nothing); `set_connection_status/3` records the status
  (an unknown interface is added); `clear_route/1` of a known interface sets
  its connection to `:disconnected` and forgets it. No Linux routes are
  touched, except with `VintageNet.Double.put_env(netns: name)`: then an
  interface's default route (via its gateway) is installed in that network
  namespace while it is `:lan` or `:internet`, and removed otherwise.
  `["available_interfaces"]` is not modelled.

  Every call is recorded: `VintageNet.Double.calls(:route_manager)` returns
  `{:set_route, ifname, ip_subnets, gateway}`,
  `{:set_connection_status, ifname, status, why}` and `{:clear_route, ifname}`
  in call order.

  Like the real one, `set_connection_status/3` with `:lan` or `:internet`
  for an interface the kernel doesn't have (`["interface", ifname,
  "present"]` not true) crashes RouteManager: the real one installs routes
  with `ip` and matches `:ok` on the result. The double's supervisor is
  `rest_for_one`, so that restarts every interface.
  """

  @server VintageNet.Double.RouteManagerServer

  @doc "Replace the interface's addresses and default gateway."
  @spec set_route(String.t(), [{:inet.ip_address(), 0..128}], :inet.ip_address()) :: :ok
  def set_route(ifname, ip_subnets, route) do
    GenServer.call(@server, {:set_route, ifname, ip_subnets, route})
  end

  @doc "Set the interface's connection status (`why` is a note for logs)."
  @spec set_connection_status(String.t(), :disconnected | :lan | :internet, String.t() | nil) ::
          :ok
  def set_connection_status(ifname, status, why \\ nil) do
    GenServer.call(@server, {:set_connection_status, ifname, status, why})
  end

  @doc "Forget the interface's routes; its connection becomes `:disconnected`."
  @spec clear_route(String.t()) :: :ok
  def clear_route(ifname), do: GenServer.call(@server, {:clear_route, ifname})
end

defmodule VintageNet.Double.RouteManagerServer do
  @moduledoc false
  use GenServer

  alias VintageNet.Double.Store

  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(_opts \\ []), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @spec reset() :: :ok
  def reset, do: GenServer.call(__MODULE__, :reset)

  @impl GenServer
  def init(_), do: {:ok, %{}}

  @impl GenServer
  def handle_call(:reset, _from, _interfaces), do: {:reply, :ok, %{}}

  def handle_call({:set_route, ifname, subnets, gateway} = call, _from, interfaces) do
    Store.record(:route_manager, call)

    interfaces =
      case interfaces[ifname] do
        %{ip_subnets: ^subnets, gateway: ^gateway, status: status} when status in [:lan, :internet] ->
          interfaces

        %{status: status} ->
          Map.put(interfaces, ifname, %{ip_subnets: subnets, gateway: gateway, status: status})

        nil ->
          Map.put(interfaces, ifname, %{ip_subnets: subnets, gateway: gateway, status: :lan})
      end

    publish(interfaces)
    {:reply, :ok, interfaces}
  end

  def handle_call({:set_connection_status, ifname, status, _why} = call, _from, interfaces) do
    Store.record(:route_manager, call)

    if status in [:lan, :internet] and PropertyTable.get(VintageNet, ["interface", ifname, "present"]) != true do
      # What `:ok = ...` does in the real one when `ip route` fails.
      raise MatchError, term: {:error, "ip: Cannot find device \"#{ifname}\""}
    end

    interfaces =
      Map.update(interfaces, ifname, %{ip_subnets: [], gateway: nil, status: status}, fn entry ->
        %{entry | status: status}
      end)

    kernel_routes(ifname, interfaces[ifname])
    publish(interfaces)
    {:reply, :ok, interfaces}
  end

  def handle_call({:clear_route, ifname} = call, _from, interfaces) do
    Store.record(:route_manager, call)

    if Map.has_key?(interfaces, ifname), do: kernel_routes(ifname, nil)

    if Map.has_key?(interfaces, ifname) do
      PropertyTable.put(VintageNet, ["interface", ifname, "connection"], :disconnected)
      interfaces = Map.delete(interfaces, ifname)
      publish(interfaces)
      {:reply, :ok, interfaces}
    else
      {:reply, :ok, interfaces}
    end
  end

  # With `netns:` set, the default route of an interface that is `:lan` or
  # `:internet` is installed in that namespace, as the real one installs it
  # with `ip`; nothing is touched in the host's namespace.
  defp kernel_routes(ifname, entry) do
    case {Keyword.get(VintageNet.Double.env(), :netns), entry} do
      {nil, _} ->
        :ok

      {_ns, %{gateway: gateway, status: status}} when status in [:lan, :internet] and gateway != nil ->
        VintageNet.Double.netns_cmd("ip", [
          "route",
          "replace",
          "default",
          "via",
          to_string(:inet.ntoa(gateway)),
          "dev",
          ifname
        ])

      {_ns, _} ->
        VintageNet.Double.netns_cmd("ip", ["route", "del", "default", "dev", ifname])
    end
  end

  defp publish(interfaces) do
    rank = %{disconnected: 0, lan: 1, internet: 2}

    best =
      interfaces
      |> Enum.map(fn {_ifname, %{status: status}} -> status end)
      |> Enum.max_by(&Map.get(rank, &1, 0), fn -> :disconnected end)

    PropertyTable.put(VintageNet, ["connection"], best)

    PropertyTable.put_many(
      VintageNet,
      for({ifname, %{status: status}} <- interfaces, do: {["interface", ifname, "connection"], status})
    )
  end
end
