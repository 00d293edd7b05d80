defmodule VintageNetCellular.Native do
  @moduledoc """
  The only door to native code.

  Every function here is implemented in Rust (`native/crates/cellular_nif`)
  and loaded from `priv/native/vintage_net_cellular_nif.so`. Other modules
  call these functions and wrap them in a friendly API; nothing else loads
  or calls native code.

  The NIF list below is the single source of the stubs: a function that the
  library exports but this list lacks (or the other way round) makes the whole
  module fail to load, and a test compares the list with the Rust sources.

  When the library is missing or was built from other sources than the ones
  this module was compiled with, loading does not crash: each call raises an
  `ErlangError` whose message says what happened and how to rebuild.

      iex> VintageNetCellular.Native.loaded?()
      true
  """

  # {name, argument types, return type}
  @nifs [
    {:build_id, [], quote(do: String.t())},
    # VintageNetCellular.AT
    {:at_parse, [quote(do: binary())], quote(do: {:ok, {atom(), map()}} | {:error, {atom(), String.t()}})},
    # VintageNetCellular.Signal
    {:signal_from_gsm_asu, [quote(do: integer())], quote(do: map())},
    {:signal_from_lte_rssi, [quote(do: integer())], quote(do: map())},
    {:signal_from_lte, [quote(do: integer() | nil), quote(do: integer() | nil), quote(do: integer() | nil)],
     quote(do: map())},
    {:signal_from_cesq, [quote(do: integer()), quote(do: integer())], quote(do: map())},
    # VintageNetCellular.Discovery
    {:discovery_scan, [quote(do: String.t()), quote(do: [{0..0xFFFF, 0..0xFFFF, 0..255, String.t()}])],
     quote(do: [map()])},
    {:discovery_usb_system, [quote(do: String.t())], quote(do: map())},
    {:discovery_table_vendors, [], quote(do: [0..0xFFFF])},
    # VintageNetCellular.Operators
    {:operator_lookup, [quote(do: binary()), quote(do: binary())], quote(do: map() | nil)},
    # VintageNetCellular.ATPort.redact/1 (the port protocol itself needs no NIF)
    {:port_redact, [quote(do: binary())], quote(do: String.t())}
  ]

  @build_id Mix.Tasks.Compile.VintageNetCellularNative.source_hash()
  for file <- Mix.Tasks.Compile.VintageNetCellularNative.source_files(),
      do: @external_resource(file)

  @on_load :load_nif

  @doc false
  @spec load_nif() :: :ok
  def load_nif do
    :vintage_net_cellular
    |> :code.priv_dir()
    |> Path.join("native/vintage_net_cellular_nif")
    |> load(@build_id)
  end

  # Public for the tests that prove a missing or stale library is reported.
  @doc false
  @spec load(Path.t(), String.t()) :: :ok
  def load(path, build_id) do
    status =
      case :erlang.load_nif(String.to_charlist(path), build_id) do
        :ok -> :ok
        {:error, {:load, _}} -> {:error, :stale}
        {:error, {reason, text}} -> {:error, {reason, List.to_string(text)}}
      end

    :persistent_term.put({__MODULE__, :status}, status)
    :ok
  end

  @doc "Whether the native library is loaded and matches these sources."
  @spec loaded?() :: boolean()
  def loaded?, do: :persistent_term.get({__MODULE__, :status}, :not_loaded) == :ok

  @doc "The names and arities of all NIFs, as the stubs are generated from them."
  @spec nifs() :: [{atom(), arity()}]
  def nifs, do: for({name, args, _} <- @nifs, do: {name, length(args)})

  @doc "The build id this module expects of the library."
  @spec expected_build_id() :: String.t()
  def expected_build_id, do: @build_id

  for {name, arg_types, return_type} <- @nifs do
    args = for i <- 1..length(arg_types)//1, do: Macro.var(:"_arg#{i}", __MODULE__)
    @doc false
    @spec unquote(name)(unquote_splicing(arg_types)) :: unquote(return_type)
    def unquote(name)(unquote_splicing(args)),
      do: :erlang.nif_error(not_loaded_message(unquote(name)))
  end

  @spec not_loaded_message(atom()) :: String.t()
  defp not_loaded_message(name) do
    why =
      case :persistent_term.get({__MODULE__, :status}, :not_loaded) do
        {:error, :stale} ->
          "the native library in priv/native was built from other sources than this module (stale)"

        {:error, {reason, text}} ->
          "the native library could not be loaded (#{reason}: #{text})"

        _ ->
          "the native library is not loaded"
      end

    "VintageNetCellular.Native.#{name}: #{why}. " <>
      "Rebuild it with `mix compile` (this runs `cargo build --release` in native/; " <>
      "`mix clean` first if the build looks current)."
  end
end
