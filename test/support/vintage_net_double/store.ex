defmodule VintageNet.Double.Store do
  @moduledoc false
  # Holds what the double records (calls to RouteManager, NameResolver,
  # PMControl, InternetChecker and MuonTrap.Daemon, in order) and the
  # per-test overrides of VintageNet's application environment.
  use Agent

  @spec start_link(keyword()) :: Agent.on_start()
  def start_link(_opts \\ []) do
    Agent.start_link(fn -> %{calls: [], env: []} end, name: __MODULE__)
  end

  @spec record(atom(), tuple()) :: :ok
  def record(kind, call) do
    Agent.update(__MODULE__, fn s -> %{s | calls: [{kind, call} | s.calls]} end)
  end

  @spec calls() :: [{atom(), tuple()}]
  def calls, do: Agent.get(__MODULE__, fn s -> Enum.reverse(s.calls) end)

  # Empty while the double is stopped (as between a stop and a start).
  @spec env_overrides() :: keyword()
  def env_overrides do
    Agent.get(__MODULE__, & &1.env)
  catch
    :exit, _ -> []
  end

  @spec put_env(keyword()) :: :ok
  def put_env(kv), do: Agent.update(__MODULE__, fn s -> %{s | env: Keyword.merge(s.env, kv)} end)

  @spec reset() :: :ok
  def reset, do: Agent.update(__MODULE__, fn _ -> %{calls: [], env: []} end)
end
