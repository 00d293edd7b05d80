defmodule VintageNetCellular.Connection.ModemSelect do
  @moduledoc """
  Which modem an interface uses, and the claim that keeps it its own.

  A gateway may run "ppp0" and "ppp1" on two modems. There is no global
  modem manager: each interface's connection manager scans sysfs itself and
  claims one modem in the `VintageNetCellular.Claims` registry (a unique-key
  `Registry`, so two claims on one key can't both succeed, and a claim goes
  away by itself when its process ends). A modem is claimed by its USB path
  and by each of its ttys, so no two interfaces ever share a modem or a tty.

  `candidates/2` is pure: from a `VintageNetCellular.Discovery.scan/1` result
  and the interface's config it returns the modems this interface may use,
  in a stable order (USB path, compared number by number, so "1-1.2" comes
  before "1-1.10"):

  * with `at_tty` set (a UART modem, or to override discovery), that tty,
    with the USB device it belongs to when there is one;
  * with `usb_path` set, only the modem at that path;
  * with `modem: SomeProfile`, modems that profile matches, or ones
    discovery found AT ports on but has no profile for;
  * with `modem: :auto`, every modem with a known profile and an AT port.

  `imei` pinning can't be decided from sysfs: the connection manager claims
  the first candidate, reads its IMEI and releases it if it's the wrong one
  (see `VintageNetCellular.Connection`).

      iex> scan = [
      ...>   %{usb_path: "1-1.10", profile: VintageNetCellular.Modem.QuectelEC25, at_tty: "ttyUSB6", ppp_tty: "ttyUSB7"},
      ...>   %{usb_path: "1-1.2", profile: VintageNetCellular.Modem.QuectelEC25, at_tty: "ttyUSB2", ppp_tty: "ttyUSB3"},
      ...>   %{usb_path: "1-1.3", profile: nil, at_tty: nil, ppp_tty: nil}
      ...> ]
      iex> VintageNetCellular.Connection.ModemSelect.candidates(scan, %{modem: :auto}) |> Enum.map(& &1.usb_path)
      ["1-1.2", "1-1.10"]
  """

  @registry VintageNetCellular.Claims

  @typedoc "A modem this interface may use."
  @type modem :: %{
          required(:usb_path) => String.t() | nil,
          required(:profile) => module() | nil,
          required(:at_tty) => String.t(),
          required(:ppp_tty) => String.t() | nil,
          optional(atom()) => any()
        }

  @doc "The modems this interface may use, best first (see the moduledoc)."
  @spec candidates([map()], map()) :: [modem()]
  def candidates(scan, config) do
    case Map.get(config, :at_tty) do
      tty when is_binary(tty) -> [explicit(scan, config, tty)]
      _ -> scan |> Enum.filter(&usable?(&1, config)) |> Enum.map(&with_profile(&1, config)) |> sort()
    end
  end

  @doc """
  The first candidate nobody else has claimed and that isn't in `skip`
  (`identity/1`s this interface has ruled out, e.g. by IMEI).
  """
  @spec first_free([modem()], [identity()]) :: modem() | nil
  def first_free(candidates, skip \\ []) do
    Enum.find(candidates, fn modem ->
      identity(modem) not in skip and Enum.all?(claim_keys(modem), &free_or_mine?/1)
    end)
  end

  @typedoc "A modem as enumerated: its USB path and AT tty (new ttys after a re-enumeration make a new identity)."
  @type identity :: {String.t() | nil, String.t()}

  @doc """
  The modem's identity for this enumeration.

      iex> VintageNetCellular.Connection.ModemSelect.identity(%{usb_path: "1-1.2", at_tty: "ttyUSB2"})
      {"1-1.2", "ttyUSB2"}
  """
  @spec identity(modem()) :: identity()
  def identity(modem), do: {modem.usb_path, modem.at_tty}

  @doc """
  Whether claims can be made: the claim registry, which
  `VintageNetCellular.Application` starts, is up. VintageNet may start an
  interface at boot before that application.
  """
  @spec ready?() :: boolean()
  def ready?, do: Process.whereis(@registry) != nil

  @doc """
  Claim `modem` for `ifname` from the calling process. Every key (the USB
  path and each tty) is claimed, or none is.
  """
  @spec claim(modem(), String.t()) :: :ok | {:error, {:claimed_by, String.t() | nil}}
  def claim(modem, ifname) do
    Enum.reduce_while(claim_keys(modem), {:ok, []}, fn k, {:ok, done} ->
      case Registry.register(@registry, k, ifname) do
        {:ok, _owner} ->
          {:cont, {:ok, [k | done]}}

        {:error, {:already_registered, pid}} when pid == self() ->
          {:cont, {:ok, done}}

        {:error, {:already_registered, pid}} ->
          Enum.each(done, &Registry.unregister(@registry, &1))
          {:halt, {:error, {:claimed_by, owner_ifname(k, pid)}}}
      end
    end)
    |> case do
      {:ok, _} -> :ok
      error -> error
    end
  end

  @doc "Release every claim of the calling process."
  @spec release_all() :: :ok
  def release_all do
    @registry |> Registry.keys(self()) |> Enum.each(&Registry.unregister(@registry, &1))
  end

  @doc """
  Who claimed a modem or tty: the interface name, or nil.

      iex> VintageNetCellular.Connection.ModemSelect.claimed_by({:tty, "ttyUSB99"})
      nil
  """
  @spec claimed_by({:usb_path | :tty, String.t()}) :: String.t() | nil
  def claimed_by(key) do
    case Registry.lookup(@registry, key) do
      [{_pid, ifname}] -> ifname
      [] -> nil
    end
  end

  @doc """
  The name this interface remembers a modem by: its USB path, or its AT tty
  for a UART modem.

      iex> VintageNetCellular.Connection.ModemSelect.key(%{usb_path: nil, at_tty: "ttyS1"})
      "ttyS1"
  """
  @spec key(modem()) :: String.t()
  def key(%{usb_path: path}) when is_binary(path), do: path
  def key(%{at_tty: tty}), do: tty

  @doc """
  Whether `modem` (as claimed) is still in `scan` with the same ttys. A modem
  that re-enumerated under new tty numbers is not: the caller drops it and
  claims afresh.
  """
  @spec still_present?(modem(), [map()], map()) :: boolean()
  def still_present?(%{usb_path: nil}, _scan, _config), do: true

  def still_present?(modem, scan, config) do
    Enum.any?(candidates(scan, config), fn found ->
      found.usb_path == modem.usb_path and found.at_tty == modem.at_tty and found.ppp_tty == modem.ppp_tty
    end)
  end

  @doc """
  A person's sentence for why no modem could be used.
  """
  @spec why_none([map()], [modem()], map()) :: String.t()
  def why_none(scan, candidates, config) do
    cond do
      candidates != [] ->
        owners =
          candidates
          |> Enum.map(fn m -> "#{describe(m)} (#{claimed_by({:usb_path, key(m)}) || "not usable"})" end)
          |> Enum.join(", ")

        "every matching modem is in use by another interface: #{owners}"

      is_binary(Map.get(config, :usb_path)) ->
        "no modem with an AT port at USB path #{config.usb_path} (found: #{found_list(scan)})"

      scan == [] ->
        "no cellular modem found on USB (run VintageNetCellular.diagnose() for hints)"

      true ->
        "no supported modem with an AT port found (found: #{found_list(scan)}); " <>
          "set modem: and at_tty:/ppp_tty: to use an unknown one"
    end
  end

  @doc "A short label for logs: `1-1.2 (ttyUSB2/ttyUSB3)`."
  @spec describe(modem()) :: String.t()
  def describe(modem) do
    ttys = Enum.reject([modem.at_tty, modem.ppp_tty], &is_nil/1) |> Enum.join("/")

    case modem.usb_path do
      nil -> ttys
      path -> "#{path} (#{ttys})"
    end
  end

  defp found_list([]), do: "nothing"

  defp found_list(scan) do
    Enum.map_join(scan, ", ", fn d ->
      vid = d |> Map.get(:vendor_id, 0) |> hex4()
      pid = d |> Map.get(:product_id, 0) |> hex4()
      "#{Map.get(d, :usb_path)} #{vid}:#{pid}"
    end)
  end

  defp hex4(n) when is_integer(n), do: n |> Integer.to_string(16) |> String.downcase() |> String.pad_leading(4, "0")
  defp hex4(_), do: "????"

  defp claim_keys(modem) do
    usb = if is_binary(modem.usb_path), do: [{:usb_path, modem.usb_path}], else: []
    usb ++ for(t <- Enum.uniq([modem.at_tty, modem.ppp_tty]), is_binary(t), do: {:tty, t})
  end

  defp free_or_mine?(key) do
    case Registry.lookup(@registry, key) do
      [] -> true
      [{pid, _}] -> pid == self()
    end
  end

  defp owner_ifname(key, pid) do
    case Registry.lookup(@registry, key) do
      [{^pid, ifname}] -> ifname
      _ -> nil
    end
  end

  defp usable?(device, config) do
    wanted_path = Map.get(config, :usb_path)

    is_binary(device[:at_tty]) and
      (wanted_path == nil or device[:usb_path] == wanted_path) and
      case Map.get(config, :modem, :auto) do
        :auto -> device[:profile] != nil
        profile -> device[:profile] in [profile, nil]
      end
  end

  defp with_profile(device, config) do
    modem =
      device
      |> Map.take([:usb_path, :vendor_id, :product_id, :manufacturer, :product, :serial, :at_tty, :ppp_tty, :profile])
      |> Map.put_new(:ppp_tty, nil)

    case Map.get(config, :modem, :auto) do
      :auto -> modem
      profile -> %{modem | profile: profile}
    end
    |> with_ppp_override(config)
  end

  defp with_ppp_override(modem, config) do
    case Map.get(config, :ppp_tty) do
      tty when is_binary(tty) -> %{modem | ppp_tty: tty}
      _ -> modem
    end
  end

  defp explicit(scan, config, tty) do
    owner =
      Enum.find(scan, fn d ->
        Enum.any?(Map.get(d, :interfaces, []), fn i -> tty in Map.get(i, :ttys, []) end)
      end)

    profile =
      case Map.get(config, :modem, :auto) do
        :auto -> (owner && owner[:profile]) || VintageNetCellular.Modem.Generic
        profile -> profile
      end

    %{
      usb_path: owner && owner[:usb_path],
      profile: profile,
      at_tty: tty,
      ppp_tty: Map.get(config, :ppp_tty) || (owner && owner[:ppp_tty] != tty && owner[:ppp_tty]) || nil
    }
  end

  defp sort(modems), do: Enum.sort_by(modems, &path_sort_key(&1.usb_path))

  # "1-1.10" -> [1, 1, 10], so paths sort like the USB tree, not like text.
  defp path_sort_key(nil), do: []

  defp path_sort_key(path) do
    path
    |> String.split(["-", "."])
    |> Enum.map(fn part ->
      case Integer.parse(part) do
        {n, ""} -> n
        _ -> part
      end
    end)
  end
end
