defmodule VintageNet do
  @moduledoc """
  Test double of the `VintageNet` API a technology and its users touch
  (vintage_net 0.13). Start it with `VintageNet.Double.start_link/1`.

  The property table is `PropertyTable` named `VintageNet` with tuple events.
  `configure/3` validates (normalize, then to_raw_config, exceptions become
  `{:error, message}`), returns `:ok` at once when the normalized config equals
  the stored one, stores it under `["interface", ifname, "config"]` and hands
  the raw config to the interface process (`VintageNet.Double.Interface`),
  which runs the lifecycle. `opts` for `to_raw_config/3` is
  `VintageNet.Double.env/0`.
  """

  alias VintageNet.Double.Interface

  @type ifname() :: String.t()
  @type property() :: [String.t()]
  @type pattern() :: [String.t() | :_ | :"$"]
  @type value() :: any()
  @type connection_status() :: :lan | :internet | :disconnected
  @type configure_options() :: [persist: boolean()]

  @doc "Validate `config`, store it and (re)configure `ifname`. `persist:` is accepted and ignored."
  @spec configure(ifname(), map(), configure_options()) :: :ok | {:error, any()}
  def configure(ifname, config, options \\ []), do: Interface.configure(ifname, config, options)

  @doc "Configure `ifname` with `VintageNet.Technology.Null`: children stop, down_cmds run, files go."
  @spec deconfigure(ifname(), configure_options()) :: :ok | {:error, any()}
  def deconfigure(ifname, options \\ []) do
    configure(ifname, %{type: VintageNet.Technology.Null, reason: "Interface deconfigured"}, options)
  end

  @doc "The value of a property."
  @spec get(property(), value()) :: value()
  def get(name, default \\ nil), do: PropertyTable.get(VintageNet, name, default)

  @doc "All properties under `prefix`, sorted."
  @spec get_by_prefix(property()) :: [{property(), value()}]
  def get_by_prefix(prefix), do: VintageNet |> PropertyTable.match(prefix) |> Enum.sort()

  @doc "All properties exactly matching `pattern` (`:_` wildcards), sorted."
  @spec match(pattern()) :: [{property(), value()}]
  def match(pattern), do: VintageNet |> PropertyTable.match(pattern ++ [:"$"]) |> Enum.sort()

  @doc "Receive `{VintageNet, name, old, new, meta}` for changes under `pattern` (a prefix)."
  @spec subscribe(pattern()) :: :ok
  def subscribe(pattern), do: PropertyTable.subscribe(VintageNet, pattern)

  @doc "Stop a subscription."
  @spec unsubscribe(pattern()) :: :ok
  def unsubscribe(pattern), do: PropertyTable.unsubscribe(VintageNet, pattern)

  @doc """
  Run `type.ioctl(ifname, command, args)` in a process of its own.

  `{:error, :unconfigured}` unless the interface is `:configured`; exits
  (`:noproc`) if `ifname` was never configured, as the real one does.
  """
  @spec ioctl(ifname(), atom(), any()) :: :ok | {:ok, any()} | {:error, any()}
  def ioctl(ifname, command, args \\ []), do: Interface.ioctl(ifname, command, args)

  @doc "The stored (normalized) configuration; raises when there is none."
  @spec get_configuration(ifname()) :: map()
  def get_configuration(ifname) do
    get(["interface", ifname, "config"]) || raise RuntimeError, "No configuration for #{ifname}"
  end
end
