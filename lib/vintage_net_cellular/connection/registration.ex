defmodule VintageNetCellular.Connection.Registration do
  @moduledoc """
  Network registration, as pure evaluation.

  The connection manager keeps the latest `+CREG`, `+CGREG`, `+CEREG` and
  `+C5GREG` answer of each domain (from URCs, enabled with `AT+CxREG=2`, and
  one read when it starts waiting) and asks `evaluate/2` whether the modem
  can carry data now.

  Data needs a packet-switched registration: a registered `+CGREG`
  (GPRS/UMTS), `+CEREG` (LTE) or `+C5GREG` (5G). A circuit-switched `+CREG`
  registration counts only when the modem reports no packet domain at all
  (old modems without `+CGREG`). "SMS only" and "emergency only" are not
  registrations for data.

      iex> alias VintageNetCellular.Connection.Registration
      iex> Registration.evaluate(%{cereg: %{stat: :registered_home}}, roaming_allowed?: true)
      {:registered, :home}
      iex> Registration.evaluate(%{cereg: %{stat: :registered_roaming}}, roaming_allowed?: false)
      {:roaming_not_allowed, "registered on a roaming network, but roaming_allowed? is false for this service provider"}
      iex> Registration.evaluate(%{cereg: %{stat: :denied, reject_cause: 15}}, [])
      {:denied, "registration denied by the network (cause 15: no suitable cells in this tracking area)"}
  """

  @typedoc "The latest parsed answer per domain (maps from `VintageNetCellular.AT.parse/1`)."
  @type stats :: %{optional(:creg | :cgreg | :cereg | :c5greg) => map() | nil}

  @typedoc "The verdict."
  @type verdict ::
          {:registered, :home | :roaming}
          | {:roaming_not_allowed, String.t()}
          | {:denied, String.t()}
          | {:searching, String.t()}
          | {:not_registered, String.t()}

  @domains [:c5greg, :cereg, :cgreg, :creg]
  @packet_domains [:c5greg, :cereg, :cgreg]
  @home [:registered_home, :csfb_not_preferred_home]
  @roaming [:registered_roaming, :csfb_not_preferred_roaming]

  # 3GPP TS 24.301 (EMM) / 24.008 (GMM) reject causes seen in practice.
  @causes %{
    2 => "IMSI unknown in HLR/HSS: the SIM is not provisioned",
    3 => "illegal UE",
    5 => "IMEI not accepted",
    6 => "illegal ME",
    7 => "data services not allowed for this SIM",
    8 => "data and voice services not allowed",
    11 => "this network (PLMN) is not allowed",
    12 => "this tracking/location area is not allowed",
    13 => "roaming not allowed in this area",
    14 => "data services not allowed on this network",
    15 => "no suitable cells in this tracking area",
    17 => "network failure",
    22 => "network congestion",
    25 => "not authorized for this closed subscriber group",
    35 => "requested service option not authorized in this network"
  }

  @doc "Whether the modem can carry data now and, if not, why (see the moduledoc)."
  @spec evaluate(stats(), keyword()) :: verdict()
  def evaluate(stats, opts) do
    roaming_allowed? = Keyword.get(opts, :roaming_allowed?, true)

    case data_registration(stats) do
      {:home, _} ->
        {:registered, :home}

      {:roaming, _} when roaming_allowed? ->
        {:registered, :roaming}

      {:roaming, _} ->
        {:roaming_not_allowed,
         "registered on a roaming network, but roaming_allowed? is false for this service provider"}

      :none ->
        not_registered(stats)
    end
  end

  @doc """
  The single `registration` property value: the stat of the domain that
  matters most for data (a registered packet domain first, then a denial,
  then the newest radio's stat), or nil when nothing is known.

      iex> VintageNetCellular.Connection.Registration.summary(%{creg: %{stat: :registered_home}, cereg: %{stat: :searching}})
      :searching
  """
  @spec summary(stats()) :: atom() | nil
  def summary(stats) do
    case data_registration(stats) do
      {_, stat} ->
        stat

      :none ->
        known = known(stats)

        cond do
          Enum.any?(known, &(&1.stat == :denied)) -> :denied
          Enum.any?(known, &(&1.stat == :searching)) -> :searching
          known != [] -> hd(known).stat
          true -> nil
        end
    end
  end

  @doc """
  The AT commands that turn on registration URCs with location (`n=2`) and
  the reads of the current state, for every domain. Modems without a domain
  answer ERROR to its commands, which the caller ignores.
  """
  @spec urc_commands() :: [String.t()]
  def urc_commands, do: ["AT+CREG=2", "AT+CGREG=2", "AT+CEREG=2"]

  @doc "The read commands, one per domain the project parses."
  @spec read_commands() :: [{atom(), String.t()}]
  def read_commands, do: [creg: "AT+CREG?", cgreg: "AT+CGREG?", cereg: "AT+CEREG?"]

  @doc """
  The URC prefixes to subscribe to.

      iex> "+CEREG" in VintageNetCellular.Connection.Registration.urc_prefixes()
      true
  """
  @spec urc_prefixes() :: [String.t()]
  def urc_prefixes, do: ["+CREG", "+CGREG", "+CEREG", "+C5GREG"]

  @doc """
  A person's description of a reject cause number.

      iex> VintageNetCellular.Connection.Registration.cause_text(7)
      "cause 7: data services not allowed for this SIM"
      iex> VintageNetCellular.Connection.Registration.cause_text(nil)
      nil
  """
  @spec cause_text(integer() | nil) :: String.t() | nil
  def cause_text(nil), do: nil
  def cause_text(cause) when is_map_key(@causes, cause), do: "cause #{cause}: #{@causes[cause]}"
  def cause_text(cause), do: "cause #{cause}"

  defp data_registration(stats) do
    packet = for d <- @packet_domains, s = Map.get(stats, d), s != nil, do: s

    candidates =
      if packet == [] do
        List.wrap(Map.get(stats, :creg))
      else
        packet
      end

    Enum.find_value(candidates, :none, fn %{stat: stat} ->
      cond do
        stat in @home -> {:home, stat}
        stat in @roaming -> {:roaming, stat}
        true -> nil
      end
    end)
  end

  defp known(stats), do: for(d <- @domains, s = Map.get(stats, d), s != nil, do: s)

  defp not_registered(stats) do
    known = known(stats)

    cond do
      denied = Enum.find(known, &(&1.stat == :denied)) ->
        case cause_text(Map.get(denied, :reject_cause)) do
          nil -> {:denied, "registration denied by the network"}
          cause -> {:denied, "registration denied by the network (#{cause})"}
        end

      Enum.any?(known, &(&1.stat == :searching)) ->
        {:searching, "searching for a network to register on"}

      Enum.any?(known, &(&1.stat in [:sms_only_home, :sms_only_roaming])) ->
        {:not_registered, "registered for SMS only: the network does not offer data to this SIM"}

      Enum.any?(known, &(&1.stat == :emergency_only)) ->
        {:not_registered, "registered for emergency calls only"}

      known == [] ->
        {:not_registered, "waiting for the modem's registration state"}

      true ->
        {:not_registered, "not registered and not searching (check the antenna and the SIM's subscription)"}
    end
  end
end
