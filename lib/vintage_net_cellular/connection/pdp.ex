defmodule VintageNetCellular.Connection.PDP do
  @moduledoc """
  Read-compare-write of the PDP context, as a pure plan.

  The connection manager reads `AT+CGDCONT?` and `AT+CGAUTH?`, parses the
  lines with `VintageNetCellular.AT.parse/1`, and asks `plan/3` what to do.
  When the modem already holds the wanted context, the plan is empty: nothing
  is written and the radio is not cycled (every write costs flash wear, and a
  CFUN cycle costs a network re-attach). Only when something differs is the
  radio switched off (`AT+CFUN=4`), the context and authentication written,
  and the radio switched on again (`AT+CFUN=1`), so that an LTE modem attaches
  with the new default bearer.

  APNs compare without regard to letter case (3GPP TS 23.003 §9.1: APNs are
  case-insensitive). The password can't be read back from any modem, so it is
  not compared; it also reaches the network through pppd's options file, where
  it is always current.

      iex> alias VintageNetCellular.Connection.PDP
      iex> current = %{cgdcont: [%{cid: 1, pdp_type: "IP", apn: "Internet"}], cgauth: []}
      iex> PDP.plan(current, %{apn: "internet", pdp_type: :ipv4}, cid: 1)
      []
      iex> PDP.plan(current, %{apn: "iot.1nce.net", pdp_type: :ipv4}, cid: 1)
      ["AT+CFUN=4", ~s(AT+CGDCONT=1,"IP","iot.1nce.net"), "AT+CFUN=1"]
  """

  @typedoc "A provider as `VintageNetCellular.Config.normalize/1` leaves it (only these keys are read)."
  @type provider :: %{
          required(:apn) => String.t(),
          optional(:pdp_type) => :ipv4 | :ipv6 | :ipv4v6,
          optional(:auth) => :none | :pap | :chap | :pap_or_chap | nil,
          optional(:username) => String.t() | nil,
          optional(:password) => String.t() | nil,
          optional(atom()) => any()
        }

  @typedoc """
  What the modem holds: the parsed `+CGDCONT:` maps, and the parsed
  `+CGAUTH:` maps or `:unsupported` when the modem answered `AT+CGAUTH?`
  with an error.
  """
  @type current :: %{cgdcont: [map()], cgauth: [map()] | :unsupported}

  @typedoc """
  Options: `:cid` (default 1) and `:cgauth` (a function building the
  `AT+CGAUTH=` write for `{cid, auth_code, username, password}`, since
  vendors disagree on the argument order; default: 3GPP TS 27.007 order).
  """
  @type opt :: {:cid, 1..99} | {:cgauth, (pos_integer(), 0..3, String.t() | nil, String.t() | nil -> String.t())}

  @doc "The AT commands that make the modem's context match `provider` (empty when it already does)."
  @spec plan(current(), provider(), [opt()]) :: [String.t()]
  def plan(current, provider, opts \\ []) do
    cid = Keyword.get(opts, :cid, 1)
    cgauth_fun = Keyword.get(opts, :cgauth, &cgauth_command/4)

    writes =
      List.wrap(if(context_differs?(current.cgdcont, provider, cid), do: cgdcont_command(cid, provider))) ++
        List.wrap(
          if(auth_differs?(current.cgauth, provider, cid),
            do: cgauth_fun.(cid, auth_code(auth(provider)), username(provider), password(provider))
          )
        )

    if writes == [], do: [], else: ["AT+CFUN=4"] ++ writes ++ ["AT+CFUN=1"]
  end

  @doc """
  A human sentence saying why `plan/3` writes, for logs (nil when it doesn't).

      iex> current = %{cgdcont: [%{cid: 1, pdp_type: "IP", apn: "old"}], cgauth: []}
      iex> VintageNetCellular.Connection.PDP.describe(current, %{apn: "new", pdp_type: :ipv4v6}, cid: 1)
      ~s(context 1 is IP "old", wanted IPV4V6 "new")
  """
  @spec describe(current(), provider(), [opt()]) :: String.t() | nil
  def describe(current, provider, opts \\ []) do
    cid = Keyword.get(opts, :cid, 1)

    parts =
      List.wrap(
        if context_differs?(current.cgdcont, provider, cid) do
          have =
            case find(current.cgdcont, cid) do
              nil -> "undefined"
              ctx -> "#{ctx.pdp_type} #{inspect(ctx.apn || "")}"
            end

          "context #{cid} is #{have}, wanted #{pdp_type_string(provider)} #{inspect(provider.apn)}"
        end
      ) ++
        List.wrap(
          if auth_differs?(current.cgauth, provider, cid) do
            "authentication of context #{cid} differs (wanted #{auth(provider)})"
          end
        )

    if parts == [], do: nil, else: Enum.join(parts, "; ")
  end

  @doc """
  The `AT+CGDCONT=` write for a provider.

      iex> VintageNetCellular.Connection.PDP.cgdcont_command(1, %{apn: "super", pdp_type: :ipv4v6})
      ~s(AT+CGDCONT=1,"IPV4V6","super")
  """
  @spec cgdcont_command(pos_integer(), provider()) :: String.t()
  def cgdcont_command(cid, provider) do
    ~s(AT+CGDCONT=#{cid},"#{pdp_type_string(provider)}","#{provider.apn}")
  end

  @doc """
  The 3GPP TS 27.007 `AT+CGAUTH=<cid>,<auth_prot>[,<userid>[,<password>]]` write.

      iex> VintageNetCellular.Connection.PDP.cgauth_command(1, 2, "u", "p")
      ~s(AT+CGAUTH=1,2,"u","p")
      iex> VintageNetCellular.Connection.PDP.cgauth_command(1, 0, nil, nil)
      "AT+CGAUTH=1,0"
  """
  @spec cgauth_command(pos_integer(), 0..3, String.t() | nil, String.t() | nil) :: String.t()
  def cgauth_command(cid, 0, _user, _password), do: "AT+CGAUTH=#{cid},0"

  def cgauth_command(cid, auth, user, password),
    do: ~s(AT+CGAUTH=#{cid},#{auth},"#{user || ""}","#{password || ""}")

  @doc """
  The 27.007 `<auth_prot>` number of an auth atom.

      iex> VintageNetCellular.Connection.PDP.auth_code(:pap_or_chap)
      3
  """
  @spec auth_code(:none | :pap | :chap | :pap_or_chap) :: 0..3
  def auth_code(:none), do: 0
  def auth_code(:pap), do: 1
  def auth_code(:chap), do: 2
  def auth_code(:pap_or_chap), do: 3

  @doc """
  The `<PDP_type>` text of a provider's `pdp_type`.

      iex> VintageNetCellular.Connection.PDP.pdp_type_string(%{pdp_type: :ipv6})
      "IPV6"
  """
  @spec pdp_type_string(map()) :: String.t()
  def pdp_type_string(provider) do
    case Map.get(provider, :pdp_type) || :ipv4 do
      :ipv4 -> "IP"
      :ipv6 -> "IPV6"
      :ipv4v6 -> "IPV4V6"
    end
  end

  defp context_differs?(contexts, provider, cid) do
    case find(contexts, cid) do
      nil ->
        true

      ctx ->
        normalize_type(ctx[:pdp_type]) != pdp_type_string(provider) or
          String.downcase(ctx[:apn] || "") != String.downcase(provider.apn)
    end
  end

  # Some modems answer "IPv4v6" or "IPV4" for the same types.
  defp normalize_type(nil), do: nil

  defp normalize_type(type) do
    case String.upcase(type) do
      "IPV4" -> "IP"
      other -> other
    end
  end

  defp auth_differs?(:unsupported, provider, _cid), do: auth(provider) != :none

  defp auth_differs?(auths, provider, cid) do
    wanted = auth(provider)

    case {find(auths, cid), wanted} do
      {nil, :none} -> false
      {nil, _} -> true
      {%{auth: :none}, :none} -> false
      {%{auth: have, username: user}, wanted} -> have != wanted or (user || "") != (username(provider) || "")
    end
  end

  defp find(entries, cid), do: Enum.find(entries, &(&1[:cid] == cid))

  defp auth(provider) do
    case Map.get(provider, :auth) do
      nil -> if username(provider), do: :pap_or_chap, else: :none
      auth -> auth
    end
  end

  defp username(provider), do: Map.get(provider, :username)
  defp password(provider), do: Map.get(provider, :password)
end
