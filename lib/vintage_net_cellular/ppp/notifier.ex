defmodule VintageNetCellular.PPP.Notifier do
  @moduledoc """
  Receives pppd's ip-up / ip-down / ipv6-up / ipv6-down events for one
  interface.

  It listens on a unix datagram socket (the `socket` of
  `VintageNetCellular.PPP.paths/2`, which pppd passes to its scripts as
  `ipparam`). pppd runs the `cellular_port` executable (through per-event symlinks) for each event; that
  sends one datagram with pppd's arguments and environment, which this process
  decodes (`VintageNetCellular.PPP.Datagram.decode/1`, no NIF), turns into a
  `t:VintageNetCellular.PPP.Event.t/0` and delivers:

  * with `notify: pid`, as the message `{VintageNetCellular.PPP.Notifier, ifname, event}`;
  * with `callback: fun`, as `fun.(ifname, event)`;
  * with `callback: {module, function, args}`, as `apply(module, function, [ifname, event | args])`.

  Callbacks run in the notifier process, so they should be quick (send a
  message, cast); one that raises is logged and the notifier carries on.

  `ifname` is the interface this notifier was started for; `event.ifname` is
  what pppd reported (they match because pppd is started with `ifname`; a
  mismatch is logged and still delivered). A datagram that can't be decoded
  is logged and dropped: it never crashes this process.

  A stale socket file left by a previous run is removed on start (anything
  other than a socket at the path is refused); the socket file is removed
  again when the process stops.

      {:ok, _pid} =
        VintageNetCellular.PPP.Notifier.start_link(
          path: "/tmp/vintage_net/ppp0.notify",
          ifname: "ppp0",
          notify: self()
        )

      receive do
        {VintageNetCellular.PPP.Notifier, "ppp0", %{kind: :ip_up, local: local, remote: remote}} ->
          {local, remote}
      end
  """
  use GenServer

  require Logger

  alias VintageNetCellular.PPP.Datagram
  alias VintageNetCellular.PPP.Event

  @typedoc "How events are delivered."
  @type callback :: (String.t(), Event.t() -> any()) | {module(), atom(), list()}

  @type option ::
          {:path, Path.t()}
          | {:ifname, String.t()}
          | {:notify, pid() | atom()}
          | {:callback, callback()}
          | {:name, GenServer.name()}

  # Twice the largest datagram cellular_port's notifier sends (cellular_core's MAX_DATAGRAM).
  @buffer 65_536
  @max_socket_path 107
  @s_ifmt 0o170000
  @s_ifsock 0o140000

  @doc "Starts a notifier. `:path`, `:ifname` and one of `:notify` or `:callback` are required."
  @spec start_link([option()]) :: GenServer.on_start()
  def start_link(opts) do
    {name, opts} = Keyword.pop(opts, :name)
    gen_opts = if name, do: [name: name], else: []
    GenServer.start_link(__MODULE__, opts, gen_opts)
  end

  @doc "A child spec whose id includes the interface, so several can run side by side."
  @spec child_spec([option()]) :: Supervisor.child_spec()
  def child_spec(opts) do
    %{id: {__MODULE__, Keyword.get(opts, :ifname)}, start: {__MODULE__, :start_link, [opts]}}
  end

  @doc "Stops the notifier and removes its socket file."
  @spec stop(GenServer.server()) :: :ok
  def stop(server), do: GenServer.stop(server)

  @impl GenServer
  def init(opts) do
    with {:ok, path} <- fetch_path(opts),
         {:ok, ifname} <- fetch_ifname(opts),
         {:ok, deliver} <- fetch_delivery(opts),
         :ok <- prepare_path(path),
         {:ok, socket} <- open(path) do
      # No trap_exit: killed, it ends without a crash report; the next one
      # removes the stale socket file (prepare_path/1).
      {:ok, %{path: path, ifname: ifname, deliver: deliver, socket: socket}}
    else
      {:error, reason} -> {:stop, reason}
    end
  end

  @impl GenServer
  def handle_info({:udp, socket, _from, _port, datagram}, %{socket: socket} = state) do
    case decode(datagram) do
      {:ok, event} ->
        if event.ifname != state.ifname do
          Logger.warning(
            "[vintage_net_cellular] #{state.ifname}: pppd reported #{event.kind} for #{inspect(event.ifname)}"
          )
        end

        deliver(state, event)

      {:error, {reason, message}} ->
        Logger.warning("[vintage_net_cellular] #{state.ifname}: dropped a pppd notification (#{reason}): #{message}")
    end

    {:noreply, state}
  end

  # The socket's port is linked to this process; its exit ends the notifier.
  def handle_info({:EXIT, socket, reason}, %{socket: socket} = state), do: {:stop, {:socket_closed, reason}, state}
  def handle_info(_other, state), do: {:noreply, state}

  @impl GenServer
  def terminate(_reason, state) do
    _ = :gen_udp.close(state.socket)
    _ = remove_socket_file(state.path)
    :ok
  end

  @doc """
  Decodes one datagram into an event, as the server does. Exposed for tests and
  for callers that receive datagrams themselves.
  """
  @spec decode(binary()) :: {:ok, Event.t()} | {:error, {atom(), String.t()}}
  def decode(datagram) when is_binary(datagram) do
    with {:ok, raw} <- Datagram.decode(datagram), do: Event.from_datagram(raw)
  end

  defp deliver(%{deliver: {:notify, pid}, ifname: ifname}, event), do: send(pid, {__MODULE__, ifname, event})

  defp deliver(%{deliver: {:callback, callback}, ifname: ifname}, event) do
    case callback do
      fun when is_function(fun, 2) -> fun.(ifname, event)
      {m, f, a} -> apply(m, f, [ifname, event | a])
    end
  rescue
    e ->
      Logger.error(
        "[vintage_net_cellular] #{ifname}: the pppd event callback raised: " <>
          Exception.format(:error, e, __STACKTRACE__)
      )
  end

  defp fetch_path(opts) do
    case Keyword.fetch(opts, :path) do
      {:ok, path} when is_binary(path) and byte_size(path) > 0 and byte_size(path) <= @max_socket_path ->
        {:ok, path}

      {:ok, path} ->
        {:error, {:bad_path, "socket path #{inspect(path)} must be a string of 1 to #{@max_socket_path} bytes"}}

      :error ->
        {:error, {:missing_option, ":path is required"}}
    end
  end

  defp fetch_ifname(opts) do
    case Keyword.fetch(opts, :ifname) do
      {:ok, ifname} when is_binary(ifname) and byte_size(ifname) > 0 -> {:ok, ifname}
      {:ok, other} -> {:error, {:bad_ifname, ":ifname must be a non-empty string, got: #{inspect(other)}"}}
      :error -> {:error, {:missing_option, ":ifname is required"}}
    end
  end

  defp fetch_delivery(opts) do
    case {Keyword.get(opts, :notify), Keyword.get(opts, :callback)} do
      {pid, nil} when is_pid(pid) or (is_atom(pid) and pid != nil) ->
        {:ok, {:notify, pid}}

      {nil, fun} when is_function(fun, 2) ->
        {:ok, {:callback, fun}}

      {nil, {m, f, a} = mfa} when is_atom(m) and is_atom(f) and is_list(a) ->
        {:ok, {:callback, mfa}}

      _ ->
        {:error, {:bad_delivery, "give exactly one of notify: pid or callback: fun/2 | {module, function, args}"}}
    end
  end

  defp prepare_path(path) do
    case File.lstat(path) do
      {:error, :enoent} ->
        case File.mkdir_p(Path.dirname(path)) do
          :ok -> :ok
          {:error, reason} -> {:error, {:socket, "can't create #{Path.dirname(path)}: #{:file.format_error(reason)}"}}
        end

      {:ok, %File.Stat{mode: mode, type: type}} ->
        if Bitwise.band(mode, @s_ifmt) == @s_ifsock do
          remove_socket_file(path)
        else
          {:error, {:socket, "#{path} exists and is a #{type}, not a stale socket; not removing it"}}
        end

      {:error, reason} ->
        {:error, {:socket, "can't check #{path}: #{:file.format_error(reason)}"}}
    end
  end

  defp remove_socket_file(path) do
    case File.rm(path) do
      :ok -> :ok
      {:error, :enoent} -> :ok
      {:error, reason} -> {:error, {:socket, "can't remove #{path}: #{:file.format_error(reason)}"}}
    end
  end

  defp open(path) do
    case :gen_udp.open(0, [:binary, {:ifaddr, {:local, path}}, {:active, true}, {:buffer, @buffer}]) do
      {:ok, socket} -> {:ok, socket}
      {:error, reason} -> {:error, {:socket, "can't listen on #{path}: #{:inet.format_error(reason)}"}}
    end
  end
end
