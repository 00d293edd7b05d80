defmodule VintageNetCellular.Connection.Probe do
  @moduledoc """
  Finds out which ports of a modem answer AT commands, before the
  connection manager uses it, as ModemManager probes ports it doesn't know.

  `VintageNetCellular.Connection.ModemSelect` lists the ports worth probing
  in a candidate's `probe` (ports of an unknown device of a modem vendor, or
  ports whose role no table knows). `run/2` opens each in turn with
  `VintageNetCellular.ATPort` and sends `AT`: a port that answers `OK`
  within the timeout is an AT port. The first one becomes the AT port, the
  second the PPP port (with one, both name it, as discovery does for a modem
  with a single AT port); probing stops there. A port whose device node
  doesn't exist is passed over without opening it.

  It blocks its caller for up to seconds: the connection manager runs it in
  a task of its own and goes on when the task's answer arrives.

  Every step is bounded: opening waits at most `:timeout`, and `AT` is sent
  at most twice (again only after an answer other than `OK`, such as
  `ERROR` for left-over bytes), each time for at most `:timeout`. The
  worst case is about three times `:timeout` per port.
  """

  alias VintageNetCellular.ATPort

  @typedoc """
  Options of `run/2`: `:timeout` (ms, default 1_500), `:dev_root` (where
  bare tty names live, default "/dev"), `:speed` and `:flow_control` (as
  for `VintageNetCellular.ATPort`).
  """
  @type opts :: [timeout: pos_integer(), dev_root: Path.t(), speed: pos_integer(), flow_control: atom()]

  @doc """
  Probes `modem`'s `probe` ports. Returns the modem with `at_tty` and
  `ppp_tty` set to ports that answered (a `ppp_tty` already set, from the
  configuration, is kept), or `{:error, reason}` when none did. A modem with
  nothing to probe is returned as it is.
  """
  @spec run(map(), opts()) :: {:ok, map()} | {:error, String.t()}
  def run(modem, opts) do
    case Map.get(modem, :probe, []) do
      [] ->
        {:ok, modem}

      ports ->
        case ports |> Stream.filter(&answers_at?(&1, opts)) |> Enum.take(2) do
          [] ->
            {:error, "no port answered AT (probed #{Enum.join(ports, ", ")})"}

          [at | rest] ->
            ppp = modem.ppp_tty || List.first(rest, at)
            {:ok, %{modem | at_tty: at, ppp_tty: ppp}}
        end
    end
  end

  @doc """
  Whether `tty` answers `AT` with `OK` (see the moduledoc for the bounds).
  """
  @spec answers_at?(String.t(), opts()) :: boolean()
  def answers_at?(tty, opts) do
    timeout = Keyword.get(opts, :timeout, 1_500)
    dev_root = Keyword.get(opts, :dev_root, "/dev")

    if File.exists?(ATPort.tty_path(tty, dev_root)) do
      port_opts = [
        tty: tty,
        dev_root: dev_root,
        speed: Keyword.get(opts, :speed, 115_200),
        flow_control: Keyword.get(opts, :flow_control, :none),
        drain_ms: 100
      ]

      with_port(port_opts, fn pid -> opened?(pid, timeout) and ok?(pid, timeout, 2) end)
    else
      false
    end
  end

  # The port is not linked to the caller: a probe never takes it down.
  defp with_port(port_opts, fun) do
    case ATPort.start_link(port_opts) do
      {:ok, pid} ->
        Process.unlink(pid)
        ref = Process.monitor(pid)

        try do
          fun.(pid)
        catch
          :exit, _ -> false
        after
          stop(pid, ref)
        end

      _error ->
        false
    end
  end

  defp stop(pid, ref) do
    GenServer.stop(pid, :normal, 5_000)
  catch
    :exit, _ -> :ok
  after
    Process.demonitor(ref, [:flush])
  end

  # Subscribed first, so that an :opened between the status check and the
  # receive is not missed. A prefix no line starts with: status messages only.
  defp opened?(pid, timeout) do
    :ok = ATPort.subscribe(pid, <<0>>)

    ATPort.status(pid) == :opened or
      receive do
        {ATPort, ^pid, :opened} -> true
      after
        timeout -> false
      end
  end

  defp ok?(pid, timeout, tries) do
    case ATPort.command(pid, "AT", timeout) do
      {:ok, lines} when is_list(lines) -> true
      {:error, reason} when reason in [:timeout, :closed] -> false
      _other when tries > 1 -> ok?(pid, timeout, tries - 1)
      _other -> false
    end
  end
end
