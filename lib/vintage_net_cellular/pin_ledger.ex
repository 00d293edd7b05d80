defmodule VintageNetCellular.PinLedger do
  @moduledoc ~S"""
  What became of each SIM PIN the library sent, per SIM, kept on disk: a PIN
  that a SIM refused (or answered unclearly) is never sent to that SIM again,
  not after the connection manager restarts, not after a reconfigure, not
  after a reboot. Three wrong PINs lock a SIM into PUK; with this ledger a
  wrong `sim_pin` costs one attempt for the SIM's whole life, until the user
  configures a different PIN.

      iex> dir = Path.join(System.tmp_dir!(), "pin_ledger_doctest_#{System.unique_integer([:positive])}")
      iex> alias VintageNetCellular.PinLedger
      iex> PinLedger.lookup({:iccid, "8901260852290847433"}, "0000", dir)
      nil
      iex> PinLedger.record({:iccid, "8901260852290847433"}, "0000", :wrong, dir)
      :ok
      iex> PinLedger.lookup({:iccid, "8901260852290847433"}, "0000", dir)
      :wrong
      iex> PinLedger.lookup({:iccid, "8901260852290847433"}, "1234", dir)
      nil
      iex> File.rm_rf!(dir) |> length() > 0
      true

  ## Where

  One small file per SIM and PIN in `state_dir/sim_pins/`. `state_dir` comes
  from `config :vintage_net_cellular, state_dir: "/data/cellular"`; by default
  it is `vintage_net_cellular` beside VintageNet's persistence directory
  (`/root/vintage_net_cellular` when that is `/root/vintage_net`), on the
  same writable partition. Not inside it: VintageNet takes every file there
  for an interface's saved configuration and warns about any other at each
  boot.

  ## What is kept

  Neither the PIN nor the ICCID: each file is named by a digest (PBKDF2-SHA256,
  2,000 rounds) of the ICCID and the PIN, and holds one word: `sent`,
  `accepted` or `wrong`. A 4-digit PIN can still be found from a digest by
  trying all 10,000, so treat the directory like VintageNet's persistence
  directory, which holds the configured `sim_pin` itself.

  Only SIMs known by their ICCID are kept on disk. A SIM whose ICCID the modem
  won't read before the unlock is remembered in memory only, for as long as
  its interface runs.

  The newest 64 entries are kept. Writes go to a temporary file that is
  renamed into place, so a power cut leaves either the old entry or the new
  one. A directory that can't be written leaves the memory of the running
  interface as the only protection, and is logged.
  """

  require Logger

  @max_entries 64
  @rounds 2_000
  @outcomes %{"sent" => :sent, "accepted" => :accepted, "wrong" => :wrong}

  @typedoc "The SIM a PIN was sent to."
  @type sim_key() :: {:iccid, String.t()} | {:modem, String.t() | nil}

  @typedoc "What became of a PIN: sent with no clear answer yet, accepted, or refused."
  @type outcome() :: :sent | :accepted | :wrong

  @doc """
  The directory the ledger lives in (see the module documentation).

      iex> old = Application.get_env(:vintage_net_cellular, :state_dir)
      iex> Application.put_env(:vintage_net_cellular, :state_dir, "/data/cellular")
      iex> VintageNetCellular.PinLedger.dir()
      "/data/cellular/sim_pins"
      iex> Application.put_env(:vintage_net_cellular, :state_dir, old)
      :ok
  """
  @spec dir() :: Path.t()
  def dir() do
    state_dir =
      case Application.get_env(:vintage_net_cellular, :state_dir) do
        dir when is_binary(dir) ->
          dir

        _ ->
          persistence = Application.get_env(:vintage_net, :persistence_dir, "/root/vintage_net")
          Path.join(Path.dirname(Path.expand(persistence)), "vintage_net_cellular")
      end

    Path.join(state_dir, "sim_pins")
  end

  @doc "What became of `pin` on the SIM `key`, or nil when it was never sent."
  @spec lookup(sim_key(), String.t(), Path.t()) :: outcome() | nil
  def lookup(key, pin, dir \\ dir())

  def lookup({:iccid, iccid}, pin, dir) when is_binary(iccid) and is_binary(pin) do
    case File.read(Path.join(dir, entry(iccid, pin))) do
      {:ok, text} ->
        # Anything but a known word (a torn or foreign file) counts as sent:
        # the PIN may have reached the SIM, so it is not sent again.
        Map.get(@outcomes, String.trim(text), :sent)

      {:error, _} ->
        nil
    end
  end

  def lookup(_key, _pin, _dir), do: nil

  @doc """
  Records what became of `pin` on the SIM `key`. A no-op (`:ok`) for SIMs not
  known by their ICCID.
  """
  @spec record(sim_key(), String.t(), outcome(), Path.t()) :: :ok | {:error, File.posix()}
  def record(key, pin, outcome, dir \\ dir())

  def record({:iccid, iccid}, pin, outcome, dir)
      when is_binary(iccid) and is_binary(pin) and outcome in [:sent, :accepted, :wrong] do
    path = Path.join(dir, entry(iccid, pin))
    tmp = path <> ".tmp"

    with :ok <- File.mkdir_p(dir),
         :ok <- File.write(tmp, Atom.to_string(outcome), [:sync]),
         :ok <- File.rename(tmp, path) do
      prune(dir, Path.basename(path))
    else
      {:error, reason} = error ->
        Logger.warning(
          "VintageNetCellular: could not record a SIM PIN outcome in #{dir} (#{:file.format_error(reason)}); " <>
            "a refused PIN is remembered only until the interface stops"
        )

        error
    end
  end

  def record(_key, _pin, _outcome, _dir), do: :ok

  defp entry(iccid, pin) do
    :crypto.pbkdf2_hmac(:sha256, pin, "vintage_net_cellular sim " <> iccid, @rounds, 32)
    |> Base.encode16(case: :lower)
  end

  # Keeps the newest entries; the one just written always stays (mtimes
  # have a resolution of a second, so ties are common).
  defp prune(dir, just_written) do
    case File.ls(dir) do
      {:ok, names} when length(names) > @max_entries ->
        (names -- [just_written])
        |> Enum.map(&{&1, mtime(Path.join(dir, &1))})
        |> Enum.sort_by(fn {_name, mtime} -> mtime end, :desc)
        |> Enum.drop(@max_entries - 1)
        |> Enum.each(fn {name, _} -> File.rm(Path.join(dir, name)) end)

      _ ->
        :ok
    end
  end

  defp mtime(path) do
    case File.stat(path, time: :posix) do
      {:ok, %{mtime: mtime}} -> mtime
      _ -> 0
    end
  end
end
