defmodule VintageNetCellular.Test.StatusWatch do
  @moduledoc """
  Asks an interface's connection manager for its status all through a test,
  each time with a 50 ms timeout, to show that the manager never waits on its
  own work (issue 11: "status/1 answers within 50 ms in every state").

      watch = StatusWatch.start("ppp0")
      # ... configure, reboot the modem, reconnect ...
      %{late: [], states: states} = StatusWatch.stop(watch)

  `late` lists the calls that were not answered in time (or found no
  manager), with the time they were made; `states` is every state seen, in
  order, without repeats; `calls` counts the calls and `slowest_us` is the
  longest answer.
  """

  alias VintageNetCellular.Interface

  @timeout_ms 50
  @every_ms 5

  @doc "Starts watching once the interface's manager is running (waits up to 5 s for it)."
  @spec start(String.t()) :: pid()
  def start(ifname) do
    await_manager(ifname, 500)
    spawn_link(fn -> loop(ifname, %{calls: 0, slowest_us: 0, late: [], states: []}) end)
  end

  defp await_manager(ifname, 0), do: raise("no connection manager for #{ifname}")

  defp await_manager(ifname, tries) do
    if Interface.whereis(ifname, :connection) == nil do
      Process.sleep(10)
      await_manager(ifname, tries - 1)
    end
  end

  @spec stop(pid()) :: %{calls: non_neg_integer(), slowest_us: non_neg_integer(), late: list(), states: [atom()]}
  def stop(watch) do
    ref = make_ref()
    send(watch, {:stop, self(), ref})

    receive do
      {^ref, result} -> result
    after
      5_000 -> raise "the status watch did not stop"
    end
  end

  defp loop(ifname, acc) do
    receive do
      {:stop, from, ref} ->
        # One last call, so the state the test just awaited is in the list.
        acc = ask(ifname, acc)
        send(from, {ref, %{acc | late: Enum.reverse(acc.late), states: Enum.reverse(acc.states)}})
    after
      @every_ms ->
        loop(ifname, ask(ifname, acc))
    end
  end

  defp ask(ifname, acc) do
    started = System.monotonic_time(:microsecond)

    result =
      try do
        {:ok, :gen_statem.call(Interface.connection(ifname), :status, @timeout_ms)}
      catch
        :exit, reason -> {:late, reason}
      end

    took = System.monotonic_time(:microsecond) - started
    acc = %{acc | calls: acc.calls + 1, slowest_us: max(acc.slowest_us, took)}

    case result do
      {:ok, %{state: state}} -> %{acc | states: seen(acc.states, state)}
      {:late, reason} -> %{acc | late: [{System.system_time(:millisecond), short(reason)} | acc.late]}
    end
  end

  defp seen([state | _] = states, state), do: states
  defp seen(states, state), do: [state | states]

  defp short({reason, {:gen_statem, :call, _}}), do: reason
  defp short(reason), do: reason
end
