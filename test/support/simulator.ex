defmodule VintageNetCellular.Test.Simulator do
  @moduledoc """
  Runs `cellular_sim` (the simulated modem) as a port, for tests and the demo.

      {:ok, sim} = Simulator.start_link(["--model", "ec25", "--fragment", "every-byte"])
      %{at: at_pty, ppp: ppp_pty} = Simulator.ports(sim)
      :ok = Simulator.control(sim, "urc +CREG: 1")
      :ok = Simulator.control(sim, "unplug")
      {:ok, %{event: "unplugged"}} = Simulator.await(sim, "unplugged")
      :ok = Simulator.control(sim, "replug")
      {:ok, %{event: "replugged", ports: %{at: new_at}}} = Simulator.await(sim, "replugged")
      :ok = Simulator.stop(sim)

  The `ready` and `replugged` lines also name the USB network function the
  modem booted in and its product id, e.g.
  `"composition":"ecm","usb_pid":"9018"` (`serial`, `rmnet`, `ecm`, `rndis` or
  `mbim`; the id as 4 lower-case hex digits). `--usbnet <composition>` picks it
  for the first power-on; the control command `usbnet <composition>` stores it
  as the model's vendor command would (`AT+QCFG="usbnet"`, `AT+CUSBPIDSWITCH`,
  `AT+UUSBCONF`, `AT#USBCFG`) and resets the modem, which then re-enumerates
  (`unplugged`, then `replugged` with the new composition); a composition the
  model lacks gives `{:error, message}`. `parse_line/1` keeps only the keys in
  `t:event/0`, so read the new ones from the raw line if a test needs them.

  The simulator prints one JSON object per line on stdout. Elixir 1.14 has no
  JSON module and the project takes no Hex packages, so `parse_line/1` reads
  the few fixed shapes of `native/crates/cellular_sim` with regular expressions.
  Its human-readable trace (stderr) is merged in and ignored. Closing the port
  closes the simulator's stdin, which ends it.
  """
  use GenServer

  @ready_timeout 10_000

  @typedoc "A parsed stdout line: `event` plus `model`, `ports`, `port` or `message` when present."
  @type event :: %{
          required(:event) => String.t(),
          optional(:model) => String.t(),
          optional(:ports) => %{optional(:at | :ppp) => String.t()},
          optional(:port) => String.t(),
          optional(:message) => String.t()
        }

  @doc "The simulator executable installed by `mix compile`."
  @spec executable() :: Path.t()
  def executable, do: Path.join(:code.priv_dir(:vintage_net_cellular), "native/cellular_sim")

  @doc "Whether the simulator is built."
  @spec available?() :: boolean()
  def available?, do: File.exists?(executable())

  @doc "Starts the simulator with command-line `args` and waits for it to be ready."
  @spec start_link([String.t()]) :: GenServer.on_start()
  def start_link(args \\ []) when is_list(args), do: GenServer.start_link(__MODULE__, args)

  @doc "The pty paths of the current (latest) plug: `%{at: path, ppp: path}`."
  @spec ports(GenServer.server()) :: %{at: String.t(), ppp: String.t()}
  def ports(sim), do: GenServer.call(sim, :ports)

  @doc "The model the simulator announced (e.g. \"EC25\")."
  @spec model(GenServer.server()) :: String.t() | nil
  def model(sim), do: GenServer.call(sim, :model)

  @doc "The OS pid of the simulator."
  @spec os_pid(GenServer.server()) :: non_neg_integer() | nil
  def os_pid(sim), do: GenServer.call(sim, :os_pid)

  @doc """
  Sends one control command (the scenario language without the time) and
  waits until the simulator has applied it (it acknowledges every command with
  a `control: ...` log line). A command it rejects gives `{:error, message}`.
  """
  @spec control(GenServer.server(), String.t(), timeout()) :: :ok | {:error, String.t()}
  def control(sim, line, timeout \\ 5_000) when is_binary(line) do
    GenServer.call(sim, {:control, String.trim(line)}, timeout)
  end

  @doc """
  Waits for the next `event` (e.g. "replugged") not yet awaited, including ones
  that arrived before this call.
  """
  @spec await(GenServer.server(), String.t(), timeout()) :: {:ok, event()} | {:error, :timeout}
  def await(sim, event, timeout \\ 5_000) do
    GenServer.call(sim, {:await, event, timeout}, :infinity)
  end

  @doc "Stops the simulator."
  @spec stop(GenServer.server()) :: :ok
  def stop(sim), do: GenServer.stop(sim)

  @doc """
  The simulator's human-readable trace lines (stderr) so far, oldest first,
  at most the last 2000: e.g. `"[ 1.234s] at <- AT+CGDCONT?"` for each command
  it received (secrets redacted by the simulator). Tests use it as a transcript.
  """
  @spec trace(GenServer.server()) :: [String.t()]
  def trace(sim), do: GenServer.call(sim, :trace)

  @doc """
  Parses one stdout line of the simulator.

      iex> VintageNetCellular.Test.Simulator.parse_line(~s({"event":"ready","model":"EC25","ports":{"at":"/dev/pts/5","ppp":"/dev/pts/6"}}))
      {:ok, %{event: "ready", model: "EC25", ports: %{at: "/dev/pts/5", ppp: "/dev/pts/6"}}}
      iex> VintageNetCellular.Test.Simulator.parse_line(~s({"event":"connected","port":"ppp"}))
      {:ok, %{event: "connected", port: "ppp"}}
      iex> VintageNetCellular.Test.Simulator.parse_line(~s({"event":"log","message":"say \\\\"hi\\\\""}))
      {:ok, %{event: "log", message: ~s(say "hi")}}
      iex> VintageNetCellular.Test.Simulator.parse_line("[ 0.006s] EC25 powered on")
      :error
  """
  @spec parse_line(String.t()) :: {:ok, event()} | :error
  def parse_line(line) do
    with "{" <> _ <- String.trim_leading(line),
         [_, event] <- Regex.run(~r/"event"\s*:\s*"(\w+)"/, line) do
      {:ok,
       %{event: event}
       |> put_string(:model, line)
       |> put_string(:port, line)
       |> put_string(:message, line)
       |> put_string(:composition, line)
       |> put_string(:usb_pid, line)
       |> put_ports(line)}
    else
      _ -> :error
    end
  end

  defp put_string(map, key, line) do
    case Regex.run(~r/"#{key}"\s*:\s*"((?:[^"\\]|\\.)*)"/, line) do
      [_, value] -> Map.put(map, key, unescape(value))
      nil -> map
    end
  end

  defp put_ports(map, line) do
    case Regex.run(~r/"ports"\s*:\s*\{([^}]*)\}/, line) do
      [_, inner] ->
        ports =
          for [_, role, path] <- Regex.scan(~r/"(at|ppp)"\s*:\s*"((?:[^"\\]|\\.)*)"/, inner),
              into: %{},
              do: {if(role == "at", do: :at, else: :ppp), unescape(path)}

        Map.put(map, :ports, ports)

      nil ->
        map
    end
  end

  defp unescape(text) do
    Regex.replace(~r/\\(["\\\/nrt])/, text, fn _, c ->
      case c do
        "n" -> "\n"
        "r" -> "\r"
        "t" -> "\t"
        other -> other
      end
    end)
  end

  # ---------------------------------------------------------------------------

  @impl GenServer
  def init(args) do
    unless available?() do
      raise "cellular_sim is not built (#{executable()}); run `mix compile`"
    end

    port =
      Port.open({:spawn_executable, executable()}, [
        :binary,
        {:line, 65_536},
        :exit_status,
        :stderr_to_stdout,
        args: args
      ])

    os_pid =
      case Port.info(port, :os_pid) do
        {:os_pid, pid} -> pid
        nil -> nil
      end

    state = %{
      port: port,
      os_pid: os_pid,
      partial: "",
      events: [],
      waiters: [],
      controls: [],
      model: nil,
      ports: nil,
      trace: []
    }

    wait_ready(state, System.monotonic_time(:millisecond) + @ready_timeout)
  end

  defp wait_ready(state, deadline) do
    left = max(deadline - System.monotonic_time(:millisecond), 0)
    port = state.port

    receive do
      {^port, {:data, data}} ->
        state = take_data(state, data)
        if state.ports, do: {:ok, state}, else: wait_ready(state, deadline)

      {^port, {:exit_status, status}} ->
        {:stop, {:simulator_exited, status}}
    after
      left -> {:stop, :simulator_not_ready}
    end
  end

  @impl GenServer
  def handle_call(:ports, _from, state), do: {:reply, state.ports, state}
  def handle_call(:model, _from, state), do: {:reply, state.model, state}
  def handle_call(:os_pid, _from, state), do: {:reply, state.os_pid, state}
  def handle_call(:trace, _from, state), do: {:reply, Enum.reverse(state.trace), state}

  def handle_call({:control, line}, from, state) do
    Port.command(state.port, line <> "\n")
    {:noreply, %{state | controls: state.controls ++ [{line, from}]}}
  end

  def handle_call({:await, name, timeout}, from, state) do
    case Enum.split_while(state.events, &(&1.event != name)) do
      {before, [event | rest]} ->
        {:reply, {:ok, event}, %{state | events: before ++ rest}}

      {_, []} ->
        timer = Process.send_after(self(), {:await_timeout, from}, timeout)
        {:noreply, %{state | waiters: state.waiters ++ [{name, from, timer}]}}
    end
  end

  @impl GenServer
  def handle_info({port, {:data, data}}, %{port: port} = state) do
    {:noreply, state |> take_data(data) |> serve_waiters()}
  end

  def handle_info({port, {:exit_status, status}}, %{port: port} = state) do
    {:stop, {:simulator_exited, status}, state}
  end

  def handle_info({:await_timeout, from}, state) do
    {timed_out, waiters} = Enum.split_with(state.waiters, fn {_, f, _} -> f == from end)
    for {_, f, _} <- timed_out, do: GenServer.reply(f, {:error, :timeout})
    {:noreply, %{state | waiters: waiters}}
  end

  def handle_info(_other, state), do: {:noreply, state}

  @impl GenServer
  def terminate(_reason, state) do
    try do
      Port.close(state.port)
    rescue
      ArgumentError -> :ok
    end

    :ok
  end

  defp take_data(state, {:noeol, chunk}), do: %{state | partial: state.partial <> chunk}

  defp take_data(state, {:eol, chunk}) do
    line = state.partial <> chunk
    state = %{state | partial: ""}

    case parse_line(line) do
      {:ok, %{event: "ready"} = event} ->
        %{state | model: event[:model], ports: event[:ports], events: state.events ++ [event]}

      {:ok, %{event: event_name} = event} when event_name in ["replugged", "reopened"] ->
        %{state | ports: event[:ports], events: state.events ++ [event]}

      {:ok, %{event: "log", message: "control: " <> applied}} ->
        ack(state, applied, :ok)

      {:ok, %{event: "log", message: "error: " <> error}} ->
        # "error: <reason>: <line>"; the line is the last part.
        case Enum.find(state.controls, fn {line, _} -> String.ends_with?(error, ": " <> line) end) do
          {line, _} -> ack(state, line, {:error, error})
          nil -> state
        end

      {:ok, %{event: "log"}} ->
        state

      {:ok, event} ->
        %{state | events: state.events ++ [event]}

      :error ->
        %{state | trace: Enum.take([line | state.trace], 2000)}
    end
  end

  defp ack(state, line, reply) do
    case Enum.split_while(state.controls, fn {l, _} -> l != line end) do
      {before, [{_, from} | rest]} ->
        GenServer.reply(from, reply)
        %{state | controls: before ++ rest}

      {_, []} ->
        state
    end
  end

  defp serve_waiters(state) do
    Enum.reduce(state.waiters, %{state | waiters: []}, fn {name, from, timer} = waiter, acc ->
      case Enum.split_while(acc.events, &(&1.event != name)) do
        {before, [event | rest]} ->
          Process.cancel_timer(timer)
          GenServer.reply(from, {:ok, event})
          %{acc | events: before ++ rest}

        {_, []} ->
          %{acc | waiters: acc.waiters ++ [waiter]}
      end
    end)
  end
end
