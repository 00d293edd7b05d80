defmodule VintageNet.Connectivity.InternetChecker do
  @moduledoc """
  Test double of `VintageNet.Connectivity.InternetChecker`, the child a
  technology adds as `{VintageNet.Connectivity.InternetChecker, ifname}`
  (`use GenServer`, `start_link(ifname)`, unnamed).

  What the real one does: it subscribes to `["interface", ifname, "lower_up"]`
  (VintageNet sets it from netlink). Link up turns `:disconnected` into
  `:lan`; link down or gone gives `:disconnected`. While not disconnected it
  checks the Internet every 0.5 to 30 s (TCP stats, then a TCP connect to the
  `internet_host_list` hosts): a success gives `:internet`, three failures in
  a row drop `:internet` to `:lan`. After each check it pets the power
  manager's watchdog (unless disconnected). Every result is reported with
  `VintageNet.RouteManager.set_connection_status(ifname, status, why)`, even
  when unchanged. So `:internet` never shows up while `lower_up` isn't true.

  What the double does: the same state rules and reports. Checks happen
  when a test calls `VintageNet.Double.internet_check(ifname, :pass |
  :fail)`; with `VintageNet.Double.put_env(internet_check: :pass)`, one
  passing check right after each link up; and with `internet_check: :tcp`,
  real checks as the real one makes them: a TCP connect to each of the
  `internet_host_list` hosts, bound to the interface (`SO_BINDTODEVICE`, so
  root is needed; in the network namespace of `put_env(netns: name)` when
  one is set), 500 ms after link up and then every 500 ms while not
  `:internet`, every 30 s while `:internet`. Simulate the link with
  `VintageNet.Double.link_up/1` and friends. Recorded in
  `VintageNet.Double.calls(:internet_checker)` as `{:start, ifname}` and
  `{:check, ifname, :pass | :fail}`.
  """

  @doc false
  @spec child_spec(String.t()) :: Supervisor.child_spec()
  def child_spec(ifname) do
    %{id: __MODULE__, start: {__MODULE__, :start_link, [ifname]}}
  end

  @doc "Start checking `ifname`."
  @spec start_link(String.t()) :: GenServer.on_start()
  def start_link(ifname), do: GenServer.start_link(VintageNet.Double.InternetCheckerServer, ifname)
end

defmodule VintageNet.Double.InternetCheckerServer do
  @moduledoc false
  use GenServer

  alias VintageNet.Double.Store

  @max_strikes 3

  @impl GenServer
  def init(ifname) do
    Store.record(:internet_checker, {:start, ifname})
    {:ok, _} = Registry.register(VintageNet.Double.Checkers, ifname, nil)

    {connectivity, strikes} =
      case VintageNet.get(["interface", ifname, "connection"]) do
        :internet -> {:internet, 0}
        :lan -> {:lan, @max_strikes}
        _ -> {:disconnected, @max_strikes}
      end

    {:ok, %{ifname: ifname, connectivity: connectivity, strikes: strikes, tcp_token: nil}, {:continue, :start}}
  end

  @impl GenServer
  def handle_continue(:start, state) do
    VintageNet.subscribe(lower_up(state.ifname))

    state =
      if VintageNet.get(lower_up(state.ifname)) == true,
        do: state |> ifup() |> report("ifup") |> maybe_auto_check(),
        else: state |> ifdown() |> report("ifdown")

    {:noreply, state}
  end

  @impl GenServer
  def handle_call({:check, result}, _from, state) do
    {:reply, :ok, check(state, result)}
  end

  @impl GenServer
  def handle_info({VintageNet, ["interface", ifname, "lower_up"], _old, new, _}, %{ifname: ifname} = state) do
    state =
      case new do
        true -> state |> ifup() |> report("ifup") |> maybe_auto_check()
        false -> state |> ifdown() |> report("ifdown")
        nil -> state |> ifdown() |> report("removed!")
      end

    {:noreply, state}
  end

  def handle_info({:tcp_check, token}, %{tcp_token: token} = state) do
    result = if tcp_reachable?(state.ifname), do: :pass, else: :fail
    {:noreply, state |> check(result) |> schedule_tcp_check()}
  end

  def handle_info(_other, state), do: {:noreply, state}

  defp lower_up(ifname), do: ["interface", ifname, "lower_up"]

  defp tcp_reachable?(ifname) do
    hosts = Keyword.fetch!(VintageNet.Double.env(), :internet_host_list)

    Enum.any?(hosts, fn {ip, port} ->
      opts = [:binary, active: false, bind_to_device: ifname] ++ netns_option()

      case :gen_tcp.connect(ip, port, opts, 1_000) do
        {:ok, socket} ->
          :gen_tcp.close(socket)
          true

        {:error, _} ->
          false
      end
    end)
  end

  defp netns_option do
    case Keyword.get(VintageNet.Double.env(), :netns) do
      nil -> []
      ns -> [netns: ~c"/run/netns/" ++ String.to_charlist(ns)]
    end
  end

  defp schedule_tcp_check(%{connectivity: :disconnected} = state), do: %{state | tcp_token: nil}

  defp schedule_tcp_check(state) do
    token = make_ref()
    delay = if state.connectivity == :internet, do: 30_000, else: 500
    Process.send_after(self(), {:tcp_check, token}, delay)
    %{state | tcp_token: token}
  end

  defp ifup(%{connectivity: :disconnected} = state), do: %{state | connectivity: :lan}
  defp ifup(state), do: state

  defp ifdown(state), do: %{state | connectivity: :disconnected}

  defp maybe_auto_check(state) do
    case Keyword.get(VintageNet.Double.env(), :internet_check) do
      :pass -> check(state, :pass)
      :tcp -> schedule_tcp_check(state)
      _manual -> state
    end
  end

  defp check(state, result) do
    Store.record(:internet_checker, {:check, state.ifname, result})

    state =
      case {result, state.connectivity} do
        {_, :disconnected} ->
          state

        {:pass, _} ->
          %{state | connectivity: :internet, strikes: 0}

        {:fail, :internet} when state.strikes + 1 >= @max_strikes ->
          %{state | connectivity: :lan, strikes: @max_strikes}

        {:fail, :internet} ->
          %{state | strikes: state.strikes + 1}

        {:fail, :lan} ->
          state
      end

    if state.connectivity != :disconnected, do: VintageNet.PowerManager.PMControl.pet_watchdog(state.ifname)
    report(state, "check #{result}")
  end

  defp report(state, why) do
    VintageNet.RouteManager.set_connection_status(state.ifname, state.connectivity, why)
    state
  end
end
