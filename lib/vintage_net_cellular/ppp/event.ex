defmodule VintageNetCellular.PPP.Event do
  @moduledoc """
  The typed form of one pppd script event, built from what
  `VintageNetCellular.PPP.Datagram.decode/1` returns.

  pppd calls its scripts with `argv` = `script ifname tty speed local remote
  ipparam` (for ipv6 scripts, local and remote are link-local addresses) and
  sets `IFNAME`, `IPLOCAL`, `IPREMOTE`, `DNS1`, `DNS2`, `LLLOCAL`, `LLREMOTE`,
  `SPEED`, `DEVICE` and more in the environment. Environment values win over
  positional ones when both exist. Addresses become tuples; an address that
  doesn't parse is an error that names the variable, never a silent `nil`.

      iex> {:ok, event} =
      ...>   VintageNetCellular.PPP.Event.from_datagram(%{
      ...>     format: 2,
      ...>     kind: :ip_up,
      ...>     program: "/tmp/vintage_net/ppp0.ip-up",
      ...>     args: ["ppp0", "/dev/ttyUSB3", "115200", "10.0.0.2", "10.64.64.64", "/tmp/vintage_net/ppp0.notify"],
      ...>     env: [{"DNS1", "8.8.8.8"}, {"IFNAME", "ppp0"}, {"IPLOCAL", "10.0.0.2"}, {"IPREMOTE", "10.64.64.64"}],
      ...>     truncated: false,
      ...>     lossy: []
      ...>   })
      iex> {event.kind, event.ifname, event.local, event.remote, event.dns}
      {:ip_up, "ppp0", {10, 0, 0, 2}, {10, 64, 64, 64}, [{8, 8, 8, 8}]}
  """

  @type kind :: :ip_up | :ip_down | :ipv6_up | :ipv6_down

  @typedoc """
  * `kind`: which script ran;
  * `ifname`, `device` (the tty), `speed` (baud) and `ipparam`;
  * `local`, `remote`: the IPv4 addresses (required for `:ip_up`/`:ip_down`,
    from `IPLOCAL`/`IPREMOTE` when set for IPv6 events);
  * `dns`: the peer's DNS servers (`DNS1`, `DNS2`), possibly `[]`;
  * `ll_local`, `ll_remote`: the IPv6 link-local addresses (required for
    `:ipv6_up`/`:ipv6_down`, from `LLLOCAL`/`LLREMOTE` when set for IPv4 events);
  * `peer_name`: `PEERNAME`, set only when the peer authenticated;
  * `stats`: for down events, `CONNECT_TIME` (s), `BYTES_SENT`, `BYTES_RCVD`, else `nil`;
  * `env`: the whole environment pppd gave the script;
  * `args`: `argv[1..]` as pppd passed them;
  * `truncated`: variables pppd doesn't set itself were dropped to fit a datagram;
  * `lossy`: names of values that weren't UTF-8 and had bytes replaced.
  """
  @type t :: %{
          kind: kind(),
          ifname: String.t(),
          device: String.t() | nil,
          speed: non_neg_integer() | nil,
          ipparam: String.t() | nil,
          local: :inet.ip4_address() | nil,
          remote: :inet.ip4_address() | nil,
          dns: [:inet.ip4_address()],
          ll_local: :inet.ip6_address() | nil,
          ll_remote: :inet.ip6_address() | nil,
          peer_name: String.t() | nil,
          stats:
            %{connect_time: non_neg_integer(), bytes_sent: non_neg_integer(), bytes_received: non_neg_integer()} | nil,
          env: %{String.t() => String.t()},
          args: [String.t()],
          truncated: boolean(),
          lossy: [String.t()]
        }

  @type error_reason :: :missing | :bad_address | :bad_integer | :bad_event

  @kinds [:ip_up, :ip_down, :ipv6_up, :ipv6_down]

  @doc """
  Builds the event from the decoded datagram map. Returns
  `{:error, {reason, message}}` with a message that names the variable.
  """
  @spec from_datagram(map()) :: {:ok, t()} | {:error, {error_reason(), String.t()}}
  def from_datagram(%{kind: kind, args: args, env: env} = raw)
      when kind in @kinds and is_list(args) and is_list(env) do
    env = Map.new(env)
    arg = fn n -> Enum.at(args, n - 1) end
    pick = fn name, n -> non_empty(Map.get(env, name)) || non_empty(arg.(n)) end
    ipv4_event? = kind in [:ip_up, :ip_down]

    with {:ok, ifname} <- required(pick.("IFNAME", 1), "IFNAME"),
         {:ok, speed} <- integer(pick.("SPEED", 3), "SPEED"),
         {:ok, local} <- address(:inet4, source(ipv4_event?, env, arg, "IPLOCAL", 4), ipv4_event?),
         {:ok, remote} <- address(:inet4, source(ipv4_event?, env, arg, "IPREMOTE", 5), ipv4_event?),
         {:ok, ll_local} <- address(:inet6, source(not ipv4_event?, env, arg, "LLLOCAL", 4), not ipv4_event?),
         {:ok, ll_remote} <- address(:inet6, source(not ipv4_event?, env, arg, "LLREMOTE", 5), not ipv4_event?),
         {:ok, dns} <- dns(env),
         {:ok, stats} <- stats(kind, env) do
      {:ok,
       %{
         kind: kind,
         ifname: ifname,
         device: pick.("DEVICE", 2),
         speed: speed,
         ipparam: non_empty(arg.(6)),
         local: local,
         remote: remote,
         dns: dns,
         ll_local: ll_local,
         ll_remote: ll_remote,
         peer_name: non_empty(Map.get(env, "PEERNAME")),
         stats: stats,
         env: env,
         args: args,
         truncated: Map.get(raw, :truncated, false),
         lossy: Map.get(raw, :lossy, [])
       }}
    end
  end

  def from_datagram(other), do: {:error, {:bad_event, "not a pppd event: #{inspect(other, limit: 10)}"}}

  # For the event's own family the positional argument is a fallback; for the
  # other family only the environment counts (argv holds the other addresses).
  defp source(true, env, arg, name, n), do: {name, non_empty(Map.get(env, name)) || non_empty(arg.(n))}
  defp source(false, env, _arg, name, _n), do: {name, non_empty(Map.get(env, name))}

  defp address(_family, {name, nil}, true = _required),
    do: {:error, {:missing, "#{name} is not set and the script got no address argument"}}

  defp address(_family, {_name, nil}, false), do: {:ok, nil}

  defp address(family, {name, text}, _required) do
    case parse_address(family, text) do
      {:ok, ip} -> {:ok, ip}
      :error -> {:error, {:bad_address, "#{name} #{inspect(text)} is not an #{family_name(family)} address"}}
    end
  end

  defp dns(env) do
    Enum.reduce_while(["DNS1", "DNS2"], {:ok, []}, fn name, {:ok, acc} ->
      case non_empty(Map.get(env, name)) do
        nil ->
          {:cont, {:ok, acc}}

        text ->
          case parse_address(:inet4, text) do
            {:ok, {0, 0, 0, 0}} -> {:cont, {:ok, acc}}
            {:ok, ip} -> {:cont, {:ok, if(ip in acc, do: acc, else: acc ++ [ip])}}
            :error -> {:halt, {:error, {:bad_address, "#{name} #{inspect(text)} is not an IPv4 address"}}}
          end
      end
    end)
  end

  defp stats(kind, env) when kind in [:ip_down, :ipv6_down] do
    with {:ok, connect_time} <- integer(non_empty(Map.get(env, "CONNECT_TIME")), "CONNECT_TIME"),
         {:ok, sent} <- integer(non_empty(Map.get(env, "BYTES_SENT")), "BYTES_SENT"),
         {:ok, received} <- integer(non_empty(Map.get(env, "BYTES_RCVD")), "BYTES_RCVD") do
      if connect_time || sent || received do
        {:ok, %{connect_time: connect_time, bytes_sent: sent, bytes_received: received}}
      else
        {:ok, nil}
      end
    end
  end

  defp stats(_kind, _env), do: {:ok, nil}

  defp required(nil, name), do: {:error, {:missing, "#{name} is not set and the script got no argument for it"}}
  defp required(value, _name), do: {:ok, value}

  defp integer(nil, _name), do: {:ok, nil}

  defp integer(text, name) do
    case Integer.parse(text) do
      {n, ""} when n >= 0 -> {:ok, n}
      _ -> {:error, {:bad_integer, "#{name} #{inspect(text)} is not a non-negative integer"}}
    end
  end

  # :inet.parse_strict_address/1 refuses the short IPv4 forms ("10.1") that
  # :inet.parse_address/1 accepts; pppd always prints four parts.
  defp parse_address(family, text) do
    with true <- String.valid?(text),
         {:ok, ip} <- :inet.parse_strict_address(String.to_charlist(text)),
         true <- family_of(ip) == family do
      {:ok, ip}
    else
      _ -> :error
    end
  end

  defp family_of(ip) when tuple_size(ip) == 4, do: :inet4
  defp family_of(ip) when tuple_size(ip) == 8, do: :inet6

  defp family_name(:inet4), do: "IPv4"
  defp family_name(:inet6), do: "IPv6"

  defp non_empty(""), do: nil
  defp non_empty(value), do: value
end
