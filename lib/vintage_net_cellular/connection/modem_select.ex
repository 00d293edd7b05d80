defmodule VintageNetCellular.Connection.ModemSelect do
  @moduledoc """
  Which modem an interface uses, and the claim that keeps it its own.

  A gateway may run "ppp0" and "ppp1" on two modems. There is no global
  modem manager: each interface's connection manager scans sysfs itself and
  claims one modem in the `VintageNetCellular.Claims` registry (a unique-key
  `Registry`, so two claims on one key can't both succeed, and a claim goes
  away by itself when its process ends). A modem is claimed by its USB path
  and by each of its ttys, so no two interfaces ever share a modem or a tty.

  `candidates/2` is pure (but for the profiles and modem vendors it looks
  up): from a `VintageNetCellular.Discovery.scan/2` result and the
  interface's config it returns the modems this interface may use, best
  group first and, within a group, in USB path order (compared number by
  number, so "1-1.2" comes before "1-1.10"):

  * with `at_tty` set (a UART modem, or to override discovery), that tty,
    with the USB device it belongs to when there is one;
  * with `usb_path` set, only modems at that path (then as below);
  * with `modem: SomeProfile`, driven with that profile: first the devices
    the profile lists (`usb_ids/0`), then the devices the port table knows
    for its family (`port_table_plugins/0`, e.g. a Telit ME910C1 the table
    knows and that would otherwise be `VintageNetCellular.Modem.Generic`),
    then unknown devices of the profile's vendors, whose ports are probed
    (below); `VintageNetCellular.Modem.Generic`, of every family, takes
    every device the table knows, then unknown devices of any modem
    vendor. Nothing else: never a USB-serial adapter or a CDC-ACM board
    such as an Arduino, whatever ports discovery gave them;
  * with `modem: :auto`, every device with a profile (listed by one, or
    known to the port table: `VintageNetCellular.Modem.Generic`), then
    unknown devices of a modem vendor (one the port table or a profile
    lists, see `VintageNetCellular.ModemProfile.modem_vendor?/2`), probed,
    with the Generic profile.

  ## Probing

  A candidate whose ports discovery can't vouch for (an unknown device of a
  modem vendor: its vendor-class and CDC-ACM ports, or a known device whose
  AT port has no role) carries them in `probe`, best guess first. Before
  the connection manager uses it, `VintageNetCellular.Connection.Probe`
  sends `AT` to each (bounded by `probe_timeout`), as ModemManager does: the
  first port that answers `OK` becomes the AT port, the second the PPP
  port. Candidates with nothing to probe have `probe: []`.

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

  alias VintageNetCellular.ModemProfile

  @registry VintageNetCellular.Claims

  @typedoc "A modem this interface may use."
  @type modem :: %{
          required(:usb_path) => String.t() | nil,
          required(:profile) => module() | nil,
          required(:at_tty) => String.t(),
          required(:ppp_tty) => String.t() | nil,
          optional(:probe) => [String.t()],
          optional(atom()) => any()
        }

  @doc "The modems this interface may use, best first (see the moduledoc)."
  @spec candidates([map()], map()) :: [modem()]
  def candidates(scan, config) do
    case Map.get(config, :at_tty) do
      tty when is_binary(tty) ->
        [explicit(scan, config, tty)]

      _ ->
        wanted = Map.get(config, :modem, :auto)
        vendor? = vendor_check(wanted)

        scan
        |> Enum.filter(&(Map.get(config, :usb_path) in [nil, &1[:usb_path]]))
        |> Enum.flat_map(fn device ->
          case classify(device, wanted, vendor?) do
            nil -> []
            {rank, profile, probe} -> [{rank, candidate(device, profile, probe, config)}]
          end
        end)
        |> Enum.sort_by(fn {rank, modem} -> {rank, path_sort_key(modem.usb_path)} end)
        |> Enum.map(&elem(&1, 1))
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
  def identity(modem) do
    case Map.get(modem, :probe, []) do
      # Probed: known by its first port to probe, whichever port answered.
      [first | _] -> {modem.usb_path, first}
      [] -> {modem.usb_path, modem.at_tty}
    end
  end

  @doc """
  The identities of `identities` that are still in `scan`: a modem that was
  unplugged (or re-enumerated under other ttys) is gone from it, and so it
  is no longer ruled out when it comes back. An identity without a USB path
  (a UART modem) always stays.
  """
  @spec present([identity()], [map()]) :: [identity()]
  def present(identities, scan) do
    Enum.filter(identities, fn
      {nil, _tty} ->
        true

      {path, tty} ->
        Enum.any?(scan, fn device ->
          device[:usb_path] == path and
            Enum.any?(Map.get(device, :interfaces, []), &(tty in Map.get(&1, :ttys, [])))
        end)
    end)
  end

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
      case Map.get(modem, :probe, []) do
        [] ->
          found.usb_path == modem.usb_path and found.at_tty == modem.at_tty and found.ppp_tty == modem.ppp_tty

        # A probed modem: the same ports to probe (the ones that answered among them).
        probe ->
          found.usb_path == modem.usb_path and Map.get(found, :probe) == probe
      end
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
    ttys = [modem.at_tty, modem.ppp_tty | Map.get(modem, :probe, [])]
    usb ++ for(t <- Enum.uniq(ttys), is_binary(t), do: {:tty, t})
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

  # What a device is to this interface: nil (not a candidate), or
  # {rank, profile, ports to probe}; lower ranks come first.
  defp classify(device, :auto, vendor?) do
    profile = device[:profile]

    cond do
      profile != nil and is_binary(device[:at_tty]) -> {0, profile, []}
      profile != nil -> probe_candidate(device, 1, profile, :unknown_roles)
      vendor?.(device[:vendor_id]) -> probe_candidate(device, 1, VintageNetCellular.Modem.Generic, :unverified)
      true -> nil
    end
  end

  defp classify(device, profile, vendor?) do
    usb_id = {device[:vendor_id], device[:product_id]}
    known? = device[:profile] != nil

    cond do
      usb_id in profile.usb_ids() -> known_candidate(device, 0, profile)
      family?(device, profile) -> known_candidate(device, 1, profile)
      not known? and vendor?.(device[:vendor_id]) -> probe_candidate(device, 2, profile, :unverified)
      true -> nil
    end
  end

  defp known_candidate(device, rank, profile) do
    if is_binary(device[:at_tty]),
      do: {rank, profile, []},
      else: probe_candidate(device, rank + 1, profile, :unknown_roles)
  end

  defp family?(device, profile) do
    case {device[:port_table], ModemProfile.plugins_of(profile)} do
      {%{}, :all} -> true
      {%{plugin: plugin}, plugins} -> plugin in plugins
      _ -> false
    end
  end

  # Which vendors' unknown devices may be probed: any modem vendor with
  # :auto (or a profile of every family), the profile's own vendors with an
  # explicit profile.
  defp vendor_check(wanted) do
    if wanted == :auto or ModemProfile.plugins_of(wanted) == :all do
      profiles = ModemProfile.profiles(wanted)
      &ModemProfile.modem_vendor?(&1, profiles)
    else
      vendors = ModemProfile.vendors_of(wanted)
      &(&1 in vendors)
    end
  end

  # The ports worth probing: bound vendor-class or CDC-ACM interfaces with a
  # tty whose role discovery doesn't know (:unknown_roles), or, on an unknown
  # device, whose AT role is only a class-rule guess (:unverified).
  # Discovery's own AT and PPP picks go first.
  defp probe_candidate(device, rank, profile, which) do
    ports =
      for i <- Map.get(device, :interfaces, []),
          i[:driver] != nil,
          i[:class] == 0xFF or (i[:class] == 0x02 and i[:subclass] == 0x02),
          probe_role?(i[:role], which),
          tty <- Enum.take(Map.get(i, :ttys, []), 1),
          do: tty

    guesses = Enum.filter([device[:at_tty], device[:ppp_tty]], &(&1 in ports))

    case Enum.uniq(guesses ++ ports) do
      [] -> nil
      ports -> {rank, profile, ports}
    end
  end

  defp probe_role?(nil, _which), do: true
  defp probe_role?(role, :unverified), do: role in [:at_primary, :at_secondary, :ppp]
  defp probe_role?(_role, :unknown_roles), do: false

  defp candidate(device, profile, probe, config) do
    modem =
      device
      |> Map.take([:usb_path, :vendor_id, :product_id, :manufacturer, :product, :serial, :at_tty, :ppp_tty])
      |> Map.put_new(:ppp_tty, nil)
      |> Map.merge(%{profile: profile, probe: probe, net: VintageNetCellular.Connection.UsbNet.net_devices(device)})

    # Until probed, the AT port is the best guess and there is no PPP port.
    modem = if probe == [], do: modem, else: %{modem | at_tty: hd(probe), ppp_tty: nil}
    with_ppp_override(modem, config)
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
      probe: [],
      profile: profile,
      at_tty: tty,
      ppp_tty: Map.get(config, :ppp_tty) || (owner && owner[:ppp_tty] != tty && owner[:ppp_tty]) || nil,
      vendor_id: owner && owner[:vendor_id],
      product_id: owner && owner[:product_id],
      net: if(owner, do: VintageNetCellular.Connection.UsbNet.net_devices(owner), else: [])
    }
  end

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
