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

  @doc """
  Print each configured interface's type, state, connection and
  configuration, as vintage_net 0.13.9's `VintageNet.info/1` does. With
  `redact: true` (the default) the values of the keys `:psk`, `:password`,
  `:sae_password`, `:private_key` and `:preshared_key` are printed as `"...."`
  at any depth of maps and lists, and nothing else is: any other secret is
  printed as it is. Like the real one, it walks nested maps with `Map.new/2`,
  so a struct inside a configuration raises `Protocol.UndefinedError`.
  """
  @spec info(keyword()) :: :ok
  def info(opts \\ []) do
    ifnames =
      VintageNet
      |> PropertyTable.match(["interface", :_, "config"])
      |> Enum.map(fn {["interface", ifname, "config"], _} -> ifname end)
      |> Enum.sort()

    IO.puts("VintageNet (double)\n")

    Enum.each(ifnames, fn ifname ->
      IO.puts("Interface #{ifname}")

      for {key, label} <- [{"type", "Type"}, {"present", "Present"}, {"state", "State"}, {"connection", "Connection"}] do
        IO.puts("  #{label}: #{inspect(get(["interface", ifname, key]))}")
      end

      config = get_configuration(ifname)
      config = if Keyword.get(opts, :redact, true), do: sanitize(config), else: config
      IO.puts("  Configuration:")
      config |> inspect(pretty: true, width: 76) |> String.split("\n") |> Enum.each(&IO.puts("    " <> &1))
    end)
  end

  @redacted_keys [:psk, :password, :sae_password, :private_key, :preshared_key]

  defp sanitize(map) when is_map(map), do: Map.new(map, &sanitize/1)
  defp sanitize({key, _value}) when key in @redacted_keys, do: {key, "...."}
  defp sanitize({key, value}) when is_map(value) or is_list(value), do: {key, sanitize(value)}
  defp sanitize(list) when is_list(list), do: Enum.map(list, &sanitize/1)
  defp sanitize(other), do: other

  @doc "The stored (normalized) configuration; raises when there is none."
  @spec get_configuration(ifname()) :: map()
  def get_configuration(ifname) do
    get(["interface", ifname, "config"]) || raise RuntimeError, "No configuration for #{ifname}"
  end
end
