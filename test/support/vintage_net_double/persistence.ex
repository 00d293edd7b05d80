defmodule VintageNet.Double.Persistence do
  @moduledoc """
  Saved configurations, as vintage_net keeps them across reboots.

  `VintageNet.configure/3` saves the normalized configuration unless
  `persist: false` is given; `VintageNet.Double.Boot` reads the saved ones
  back when the double starts. They are kept as files (one per interface,
  Erlang term format) in `:persistence_dir` of VintageNet's environment
  (`VintageNet.Double.env/0`), so they outlive a stop and start of the double
  the way vintage_net's outlive a reboot. `VintageNet.Double.reset/0` and
  `clear/0` remove them.
  """

  @doc "The directory of saved configurations."
  @spec dir() :: Path.t()
  def dir, do: Keyword.fetch!(VintageNet.Double.env(), :persistence_dir)

  @doc "Save `ifname`'s normalized configuration."
  @spec save(String.t(), map()) :: :ok
  def save(ifname, config) do
    File.mkdir_p!(dir())
    File.write!(Path.join(dir(), ifname), :erlang.term_to_binary(config))
  end

  @doc "Every saved configuration, by interface name, sorted."
  @spec load_all() :: [{String.t(), map()}]
  def load_all do
    case File.ls(dir()) do
      {:ok, names} ->
        for ifname <- Enum.sort(names),
            {:ok, bin} <- [File.read(Path.join(dir(), ifname))],
            config = safe_decode(bin),
            is_map(config),
            do: {ifname, config}

      {:error, _} ->
        []
    end
  end

  @doc "Forget every saved configuration."
  @spec clear() :: :ok
  def clear do
    File.rm_rf!(dir())
    :ok
  end

  # As vintage_net's FlatFile: no :safe. A saved configuration holds atoms
  # (keys, enumerations) of modules a freshly booted VM may not have loaded
  # yet; [:safe] would refuse it and the interface would not come back.
  defp safe_decode(bin) do
    :erlang.binary_to_term(bin)
  rescue
    ArgumentError -> nil
  end
end

defmodule VintageNet.Double.Boot do
  @moduledoc """
  What `VintageNet.Application` does while it starts: every interface with a
  saved configuration (`VintageNet.Double.Persistence`), or else one from
  `config :vintage_net, config: [{ifname, config}]`, is started on that
  configuration, before the double's start returns and so before any
  application that starts after vintage_net. A configuration that no longer
  normalizes turns into `VintageNet.Technology.Null`, as in vintage_net.

  It is the last child of the double's `rest_for_one` supervisor, so it runs
  again whenever an earlier child (RouteManager, the interfaces supervisor)
  restarts, as vintage_net's interfaces come back from their saved
  configurations.
  """

  alias VintageNet.Double.Interface
  alias VintageNet.Double.Persistence

  @doc false
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(_opts), do: %{id: __MODULE__, start: {__MODULE__, :start_link, []}, restart: :transient}

  @doc "Starts the saved and configured interfaces, then returns `:ignore`."
  @spec start_link() :: :ignore
  def start_link do
    saved = Persistence.load_all()
    from_env = Application.get_env(:vintage_net, :config, [])
    configs = Enum.uniq_by(saved ++ from_env, fn {ifname, _} -> ifname end)

    Enum.each(configs, fn {ifname, config} ->
      normalized =
        case Interface.to_raw_config(ifname, config) do
          {:ok, raw} -> raw.source_config
          {:error, _} -> VintageNet.Technology.Null.to_raw_config(ifname).source_config
        end

      PropertyTable.put(VintageNet, ["interface", ifname, "config"], normalized)
      _ = Interface.start_interface(ifname)
    end)

    :ignore
  end
end
