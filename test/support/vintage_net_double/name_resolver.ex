defmodule VintageNet.NameResolver do
  @moduledoc """
  Test double of `VintageNet.NameResolver`. The real one rewrites
  resolv.conf; this one keeps the entries per interface and publishes
  `["name_servers"]` as `[%{address: ip_tuple, from: [ifname]}]` (no
  duplicates, interfaces in name order, servers in the order given).

  Calls are recorded: `VintageNet.Double.calls(:name_resolver)` returns
  `{:setup, ifname, domain, name_servers}` and `{:clear, ifname}`.
  """

  @server VintageNet.Double.NameResolverServer

  @doc "Set the search domain (or nil) and name servers for `ifname`."
  @spec setup(String.t(), String.t() | nil, [:inet.ip_address()]) :: :ok
  def setup(ifname, domain, name_servers) do
    GenServer.call(@server, {:setup, ifname, domain, name_servers})
  end

  @doc "Remove everything `ifname` set up."
  @spec clear(String.t()) :: :ok
  def clear(ifname), do: GenServer.call(@server, {:clear, ifname})
end

defmodule VintageNet.Double.NameResolverServer do
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
  def handle_call(:reset, _from, _entries), do: {:reply, :ok, %{}}

  def handle_call({:setup, ifname, domain, servers} = call, _from, entries) do
    Store.record(:name_resolver, call)
    entries = Map.put(entries, ifname, %{domain: domain, name_servers: servers})
    publish(entries)
    {:reply, :ok, entries}
  end

  def handle_call({:clear, ifname} = call, _from, entries) do
    Store.record(:name_resolver, call)
    entries = Map.delete(entries, ifname)
    publish(entries)
    {:reply, :ok, entries}
  end

  defp publish(entries) do
    list =
      entries
      |> Enum.sort()
      |> Enum.flat_map(fn {ifname, %{name_servers: servers}} -> Enum.map(servers, &{&1, ifname}) end)
      |> Enum.reduce([], fn {address, ifname}, acc ->
        case Enum.find_index(acc, &(&1.address == address)) do
          nil -> acc ++ [%{address: address, from: [ifname]}]
          i -> List.update_at(acc, i, fn e -> %{e | from: Enum.uniq(e.from ++ [ifname])} end)
        end
      end)

    PropertyTable.put(VintageNet, ["name_servers"], list)
  end
end

defmodule VintageNet.PowerManager.PMControl do
  @moduledoc """
  Test double of `VintageNet.PowerManager.PMControl`. Only `pet_watchdog/1`,
  which a technology (or the InternetChecker) calls while the connection is
  good. Calls are recorded as `{:pet_watchdog, ifname}` in
  `VintageNet.Double.calls(:pm_control)`.
  """

  @doc "Tell the power manager the interface is healthy."
  @spec pet_watchdog(String.t()) :: :ok
  def pet_watchdog(ifname), do: VintageNet.Double.Store.record(:pm_control, {:pet_watchdog, ifname})
end
