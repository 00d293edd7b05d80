defmodule VintageNet.Technology do
  @moduledoc """
  Test double of the `VintageNet.Technology` behaviour (vintage_net 0.13).

  VintageNet calls `normalize/1` and then `to_raw_config/3` inside a
  try/rescue; a raised exception becomes `{:error, Exception.message(e)}`
  from `VintageNet.configure/3`. `ioctl/3` runs in a process of its own and
  only while the interface is configured. `opts` is VintageNet's application
  environment (`:tmpdir`, `:path`, `:resolvconf`, `:muontrap_options`, ...).
  """

  @callback normalize(config :: map()) :: map()
  @callback to_raw_config(ifname :: String.t(), config :: map(), opts :: keyword()) ::
              VintageNet.Interface.RawConfig.t()
  @callback ioctl(ifname :: String.t(), command :: atom(), args :: list()) ::
              :ok | {:ok, any()} | {:error, any()}
  @callback check_system(opts :: keyword()) :: :ok | {:error, String.t()}
end

defmodule VintageNet.Interface.RawConfig do
  @moduledoc """
  Test double of `%VintageNet.Interface.RawConfig{}`: the same fields, the same
  defaults and the same enforced keys as vintage_net 0.13.

  * `files` are written (directories created) just before `up_cmds` run and
    removed on teardown, with the default file mode: a secret that must be
    0600 can't rely on them.
  * `up_cmds`/`down_cmds` are `{:run, cmd, args}` (non-zero exit fails),
    `{:run_ignore_errors, cmd, args}`, `{:fun, fun0}` or `{:fun, m, f, a}`
    (must return `:ok`; anything else fails the list).
  * `child_specs` start under one supervisor with `restart_strategy` once
    `up_cmds` succeed.
  """

  @type command() ::
          {:run, String.t(), [String.t()]}
          | {:run_ignore_errors, String.t(), [String.t()]}
          | {:fun, (() -> :ok | {:error, any()})}
          | {:fun, module(), atom(), list()}

  @type t() :: %__MODULE__{
          ifname: String.t(),
          type: atom(),
          source_config: map(),
          required_ifnames: [String.t()],
          retry_millis: non_neg_integer(),
          files: [{Path.t(), iodata()}],
          restart_strategy: Supervisor.strategy(),
          child_specs: [Supervisor.child_spec() | {module(), term()} | module()],
          up_cmd_millis: non_neg_integer(),
          up_cmds: [command()],
          down_cmd_millis: non_neg_integer(),
          down_cmds: [command()],
          cleanup_files: [Path.t()]
        }

  @enforce_keys [:ifname, :type, :source_config, :required_ifnames]
  defstruct ifname: nil,
            type: nil,
            source_config: %{},
            required_ifnames: [],
            retry_millis: 30_000,
            files: [],
            restart_strategy: :one_for_all,
            child_specs: [],
            up_cmd_millis: 5_000,
            up_cmds: [],
            down_cmd_millis: 5_000,
            down_cmds: [],
            cleanup_files: []
end

defmodule VintageNet.Technology.Null do
  @moduledoc """
  Test double of `VintageNet.Technology.Null`, the technology of an
  unconfigured interface. `VintageNet.deconfigure/1` configures it with
  `reason: "Interface deconfigured"`.
  """
  @behaviour VintageNet.Technology

  alias VintageNet.Interface.RawConfig

  @impl VintageNet.Technology
  def normalize(config), do: %{type: __MODULE__, reason: Map.get(config, :reason, "")}

  @impl VintageNet.Technology
  def to_raw_config(ifname, config \\ %{}, _opts \\ []) do
    %RawConfig{
      ifname: ifname,
      type: __MODULE__,
      source_config: normalize(config),
      required_ifnames: []
    }
  end

  @impl VintageNet.Technology
  def ioctl(_ifname, _command, _args), do: {:error, :unsupported}

  @impl VintageNet.Technology
  def check_system(_opts), do: :ok
end
