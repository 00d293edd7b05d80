defmodule VintageNetCellular.Config do
  @moduledoc """
  Validate a `VintageNetCellular` configuration and fill in its defaults.

  `normalize/1` returns the canonical form that VintageNet stores and compares
  (normalizing it again gives the same map). Anything wrong raises an
  `ArgumentError` whose message starts with the path of the bad key, e.g.
  `vintage_net_cellular.service_providers[1].apn: ...`; positions in messages
  count bytes from 1. Passwords and PINs are never echoed.

  ## Input

      %{
        type: VintageNetCellular,
        vintage_net_cellular: %{
          service_providers: [
            %{apn: "iot.1nce.net", only_iccid_prefixes: ["8988228"]},
            %{apn: "super", username: "u", password: "p", auth: :chap, pdp_type: :ipv4v6},
            %{apn: "internet"}
          ],
          sim_pin: "1234",
          only_radio_technologies: [:lte, :lte_cat_m1]
        }
      }

  ## Normalized form

  `%{type: VintageNetCellular, vintage_net_cellular: options}`, every key
  present. In the input, a key left out and a key set to `nil` mean the same:
  the default.

  A top-level `hostname: "my-device"` (as vintage_net_qmi configs have it) is
  accepted and kept in the normalized config; it is left out of the
  normalized config when it is absent or nil, so configs without it
  normalize as before. It must be an RFC 1123 host name: at most 253
  characters, labels of 1 to 63 letters, digits and hyphens (no hyphen at
  either end) separated by dots. PPP has no DHCP exchange to send it in
  (vintage_net_qmi hands it to udhcpc), so nothing is sent to the network:
  it is kept for code that reads the interface's config.

  | key | type | default | meaning |
  |---|---|---|---|
  | `modem` | `:auto` or a profile module | `:auto` | `:auto` finds the modem by USB vid:pid; a module must export `usb_ids/0` |
  | `service_providers` | non-empty list of providers (below) | required | chosen by ICCID, see `VintageNetCellular.ServiceProviders` |
  | `sim_pin` | `nil` or 4–8 digit string; normalized to `%{password: pin}` | `nil` | used once, only when the SIM asks |
  | `only_radio_technologies` | `nil` or non-empty list of `:gsm`, `:umts`, `:lte`, `:lte_cat_m1`, `:lte_cat_nb1`, `:nr5g` | `nil` | `nil` leaves the modem's setting alone; order is kept (a preference where the modem supports one), duplicates dropped |
  | `dns` | `nil` or non-empty list of IP tuples (strings are parsed) | `nil` | `nil` uses the DNS servers the network gives |
  | `at_tty`, `ppp_tty` | `nil` or tty name | `nil` | `nil` means found through the modem profile and USB; otherwise `"ttyUSB2"`-style names (`tty` + letters/digits/underscores) or a path under `/dev/` |
  | `speed` | standard baud rate | `115_200` | serial speed for UART modems |
  | `flow_control` | `:none` or `:hardware` | `:none` | RTS/CTS for UART modems |
  | `usb_path` | `nil` or a USB port path like `"1-1.3"` | `nil` | pins this interface to the modem on that port |
  | `imei` | `nil` or 15 digits | `nil` | pins this interface to the modem with that IMEI |
  | `cmux` | `:auto`, `true` or `false` | `:auto` | a modem with one serial port (AT and PPP on one tty, e.g. a UART) is multiplexed (3GPP TS 27.010) so AT keeps working while PPP is up: `:auto` where its profile says it works, `true` always, `false` never. See the README's "One UART, full service" |
  | `data_path` | `:ppp`, `:usb_net` or `:auto` | `:ppp` | `:usb_net` carries data over the modem's USB network function (ECM/RNDIS; the modem is switched into it when its profile knows how), `:auto` uses it where the profile and the kernel allow; both fall back to PPP. See the README's "Data paths" |

  A provider, normalized:

  | key | type | default | meaning |
  |---|---|---|---|
  | `apn` | string | required | 3GPP TS 23.003 rules: labels of letters, digits and hyphens (no hyphen at either end of a label) separated by dots; at most 99 characters (100 octets encoded) |
  | `only_iccid_prefixes` | `nil` or non-empty list of digit strings | `nil` | `nil` (or leaving the key out) makes the provider a catch-all |
  | `username` | `nil` or 1–64 printable ASCII; normalized to `%{password: username}` | `nil` | |
  | `password` | `nil` or 0–64 printable ASCII | `nil` | needs a `username` |
  | `auth` | `:none`, `:pap`, `:chap` or `:pap_or_chap` | `:pap_or_chap` with a username, else `:none` | anything but `:none` needs a `username`; `:none` with a username is an error |
  | `pdp_type` | `:ipv4`, `:ipv6` or `:ipv4v6` | `:ipv4` | |
  | `roaming_allowed?` | `nil` or boolean | `nil` | `nil` leaves the modem's roaming setting alone (as vintage_net_qmi does) |

  Secrets stay under keys that `VintageNet.info/0` redacts (it redacts by
  key, never by value): a provider's `password`, and the PIN and the
  username, which the normalized form keeps as `sim_pin: %{password: "1234"}`
  and `username: %{password: "user"}` (the input may use either form).
  `sim_pin/1` and `username/1` read them back.

  Usernames and passwords may not contain `"`, `'`, `;`, `\\`, a backtick or
  any control or non-ASCII byte, so they can't break out of an AT command
  string or a pppd options file. Spaces are allowed, so quote them where you write
  them.

  ## Migration

  The options that vintage_net_mobile and vintage_net_qmi users already wrote
  are accepted under their own key: change `type:` to `VintageNetCellular`
  (and the interface to `"ppp0"` for QMI users). The output always uses the
  `:vintage_net_cellular` key.

  | they wrote | here |
  |---|---|
  | `vintage_net_mobile: %{...}` / `vintage_net_qmi: %{...}` | accepted as the options key |
  | `modem: VintageNetMobile.Modem.Automatic` | `:auto` |
  | `modem: VintageNetMobile.Modem.QuectelBG96` | `VintageNetCellular.Modem.QuectelBG96` |
  | `modem: VintageNetMobile.Modem.QuectelEC25` | `VintageNetCellular.Modem.QuectelEC25` |
  | `modem: VintageNetMobile.Modem.TelitLE910` | `VintageNetCellular.Modem.TelitLE910` |
  | `modem: VintageNetMobile.Modem.UbloxTOBYL2` | `VintageNetCellular.Modem.UbloxLara` |
  | `modem: VintageNetMobile.Modem.HuaweiE3372` | `VintageNetCellular.Modem.HuaweiE3372` |
  | `modem: VintageNetMobile.Modem.SierraHL8548` | `VintageNetCellular.Modem.Generic` (no HL8548 profile) |
  | `scan: [...]` (vintage_net_mobile, BG96) | `only_radio_technologies: [...]` (same atoms) |
  | `at_tty:`, `ppp_tty:` | same; left out means found by USB id, not `"ttyUSB2"`/`"ttyUSB3"` |
  | several `service_providers` under `vintage_net_mobile:` | error: vintage_net_mobile dialled the first one, here the last catch-all would win, so keep one or add `only_iccid_prefixes` |
  | `usage:` in a provider (TOBY-L2) | error: one PDP context serves every radio technology; keep the provider you want |
  | `chatscript_additions:` | error: modem setup is done by AT commands of the modem profile, not a chat script |
  | `only_radio_technologies:`, `only_iccid_prefixes:`, `roaming_allowed?:` (vintage_net_qmi) | same meaning; `:cdma_1x`, `:cdma_1x_evdo` and `:amps` are rejected |
  | `hostname:` at the top level (vintage_net_qmi) | accepted and kept in the normalized config; not sent over PPP (there is no DHCP) |

  Modem modules are resolved at run time by name, so a missing profile is a
  clear `ArgumentError`, not a compile error.

  ## Examples

      iex> config = %{type: VintageNetCellular, vintage_net_cellular: %{service_providers: [%{apn: "internet"}]}}
      iex> VintageNetCellular.Config.normalize(config)
      %{
        type: VintageNetCellular,
        vintage_net_cellular: %{
          at_tty: nil,
          cmux: :auto,
          data_path: :ppp,
          dns: nil,
          flow_control: :none,
          imei: nil,
          modem: :auto,
          only_radio_technologies: nil,
          ppp_tty: nil,
          service_providers: [
            %{apn: "internet", auth: :none, only_iccid_prefixes: nil, password: nil,
              pdp_type: :ipv4, roaming_allowed?: nil, username: nil}
          ],
          sim_pin: nil,
          speed: 115_200,
          usb_path: nil
        }
      }

      iex> VintageNetCellular.Config.normalize(%{type: VintageNetCellular, vintage_net_cellular: %{service_providers: [%{apn: "inter\\"net"}]}})
      ** (ArgumentError) vintage_net_cellular.service_providers[0].apn: a double quote (") at position 6 is not allowed: an APN is labels of letters, digits and hyphens separated by dots (3GPP TS 23.003)
  """

  @option_keys [
    :modem,
    :service_providers,
    :sim_pin,
    :only_radio_technologies,
    :dns,
    :at_tty,
    :ppp_tty,
    :speed,
    :flow_control,
    :usb_path,
    :imei,
    :data_path,
    :cmux
  ]
  @provider_keys [
    :apn,
    :only_iccid_prefixes,
    :username,
    :password,
    :auth,
    :pdp_type,
    :roaming_allowed?
  ]
  @config_keys [:vintage_net_cellular, :vintage_net_mobile, :vintage_net_qmi]
  @radio_technologies [:gsm, :umts, :lte, :lte_cat_m1, :lte_cat_nb1, :nr5g]
  @auths [:none, :pap, :chap, :pap_or_chap]
  @pdp_types [:ipv4, :ipv6, :ipv4v6]
  @data_paths [:ppp, :usb_net, :auto]
  # Linux termios rates (asm-generic/termbits.h).
  @speeds [
    300,
    600,
    1200,
    2400,
    4800,
    9600,
    19_200,
    38_400,
    57_600,
    115_200,
    230_400,
    460_800,
    500_000,
    576_000,
    921_600,
    1_000_000,
    1_152_000,
    1_500_000,
    2_000_000,
    2_500_000,
    3_000_000,
    3_500_000,
    4_000_000
  ]
  @max_apn 99
  @max_label 63
  @max_hostname 253

  # vintage_net_mobile modem module (by name) -> our profile (by name)
  @mobile_modems %{
    "VintageNetMobile.Modem.Automatic" => :auto,
    "VintageNetMobile.Modem.QuectelBG96" => "QuectelBG96",
    "VintageNetMobile.Modem.QuectelEC25" => "QuectelEC25",
    "VintageNetMobile.Modem.TelitLE910" => "TelitLE910",
    "VintageNetMobile.Modem.UbloxTOBYL2" => "UbloxLara",
    "VintageNetMobile.Modem.HuaweiE3372" => "HuaweiE3372",
    "VintageNetMobile.Modem.SierraHL8548" => "Generic"
  }

  @typedoc "A normalized service provider"
  @type provider() :: %{
          apn: String.t(),
          only_iccid_prefixes: [String.t()] | nil,
          username: %{password: String.t()} | nil,
          password: String.t() | nil,
          auth: :none | :pap | :chap | :pap_or_chap,
          pdp_type: :ipv4 | :ipv6 | :ipv4v6,
          roaming_allowed?: boolean() | nil
        }

  @typedoc "Radio access technologies"
  @type radio_technology() :: :gsm | :umts | :lte | :lte_cat_m1 | :lte_cat_nb1 | :nr5g

  @typedoc "The normalized `:vintage_net_cellular` options"
  @type options() :: %{
          modem: :auto | module(),
          service_providers: [provider(), ...],
          sim_pin: %{password: String.t()} | nil,
          only_radio_technologies: [radio_technology(), ...] | nil,
          dns: [:inet.ip_address(), ...] | nil,
          at_tty: String.t() | nil,
          ppp_tty: String.t() | nil,
          speed: pos_integer(),
          flow_control: :none | :hardware,
          usb_path: String.t() | nil,
          imei: String.t() | nil,
          data_path: :ppp | :usb_net | :auto,
          cmux: :auto | boolean()
        }

  @doc """
  Normalize a configuration map; raises `ArgumentError` naming the bad key.
  """
  @spec normalize(map()) :: %{
          required(:type) => VintageNetCellular,
          required(:vintage_net_cellular) => options(),
          optional(:hostname) => String.t()
        }
  def normalize(config) when is_map(config) do
    case Map.get(config, :type, VintageNetCellular) do
      VintageNetCellular -> :ok
      other -> bad!("type", "expected VintageNetCellular, got #{inspect(other)}")
    end

    given = Enum.filter(@config_keys, &Map.has_key?(config, &1))

    case Map.keys(config) -- [:type, :hostname | @config_keys] do
      [] -> :ok
      [key | _] -> bad!(inspect(key), "unknown key; put options under :vintage_net_cellular")
    end

    key =
      case given do
        [key] ->
          key

        [] ->
          bad!(
            "vintage_net_cellular",
            "missing, e.g. %{type: VintageNetCellular, vintage_net_cellular: %{service_providers: [%{apn: \"internet\"}]}}"
          )

        several ->
          bad!(Enum.map_join(several, ", ", &inspect/1), "give only one of these keys")
      end

    %{type: VintageNetCellular, vintage_net_cellular: normalize_options(key, Map.fetch!(config, key))}
    |> put_hostname(hostname!(Map.get(config, :hostname)))
  end

  def normalize(other), do: bad!("config", "expected a map, got #{inspect(other)}")

  @doc """
  The configured SIM PIN of normalized options, or nil.

      iex> VintageNetCellular.Config.sim_pin(%{sim_pin: %{password: "1234"}})
      "1234"
      iex> VintageNetCellular.Config.sim_pin(%{sim_pin: nil})
      nil
  """
  @spec sim_pin(options()) :: String.t() | nil
  def sim_pin(%{sim_pin: %{password: pin}}) when is_binary(pin), do: pin
  def sim_pin(_options), do: nil

  @doc """
  The username of a normalized provider, or nil.

      iex> VintageNetCellular.Config.username(%{apn: "a", username: %{password: "user"}})
      "user"
      iex> VintageNetCellular.Config.username(%{apn: "a", username: nil})
      nil
  """
  @spec username(map()) :: String.t() | nil
  def username(%{username: %{password: user}}) when is_binary(user), do: user
  def username(%{username: user}) when is_binary(user), do: user
  def username(_provider), do: nil

  @doc """
  A normalized provider as the connection manager uses it: the username
  unwrapped to a plain string (or nil).

      iex> VintageNetCellular.Config.runtime_provider(%{apn: "a", username: %{password: "user"}, password: "pw"})
      %{apn: "a", username: "user", password: "pw"}
  """
  @spec runtime_provider(map()) :: map()
  def runtime_provider(provider) when is_map(provider), do: %{provider | username: username(provider)}

  @doc """
  The baud rates `:speed` accepts: the Linux termios rates.

      iex> 115_200 in VintageNetCellular.Config.speeds()
      true
  """
  @spec speeds() :: [pos_integer()]
  def speeds(), do: @speeds

  @doc """
  The vintage_net_mobile modem modules this accepts, by name, and what they
  become (`:auto` or one of our profile modules, which may not be loaded).

      iex> VintageNetCellular.Config.mobile_modems()["VintageNetMobile.Modem.QuectelBG96"]
      VintageNetCellular.Modem.QuectelBG96
  """
  @spec mobile_modems() :: %{String.t() => :auto | module()}
  def mobile_modems do
    Map.new(@mobile_modems, fn
      {name, :auto} -> {name, :auto}
      {name, profile} -> {name, Module.concat(VintageNetCellular.Modem, profile)}
    end)
  end

  defp normalize_options(key, options) when is_map(options) do
    root = Atom.to_string(key)

    {options, rat_key} =
      if key == :vintage_net_mobile,
        do: from_mobile(root, options),
        else: {options, "only_radio_technologies"}

    case Map.keys(options) -- @option_keys do
      [] -> :ok
      [unknown | _] -> bad!("#{root}.#{unknown_name(unknown)}", "unknown key; known keys: #{names(@option_keys)}")
    end

    %{
      modem: modem!(root, value(options, :modem, :auto)),
      service_providers: providers!(root, Map.get(options, :service_providers)),
      sim_pin: sim_pin!(root, Map.get(options, :sim_pin)),
      only_radio_technologies: radio_technologies!("#{root}.#{rat_key}", Map.get(options, :only_radio_technologies)),
      dns: dns!(root, Map.get(options, :dns)),
      at_tty: tty!("#{root}.at_tty", Map.get(options, :at_tty)),
      ppp_tty: tty!("#{root}.ppp_tty", Map.get(options, :ppp_tty)),
      speed: speed!(root, value(options, :speed, 115_200)),
      flow_control: flow_control!(root, value(options, :flow_control, :none)),
      usb_path: usb_path!(root, Map.get(options, :usb_path)),
      imei: imei!(root, Map.get(options, :imei)),
      data_path: one_of!("#{root}.data_path", value(options, :data_path, :ppp), @data_paths),
      cmux: one_of!("#{root}.cmux", value(options, :cmux, :auto), [:auto, true, false])
    }
  end

  defp normalize_options(key, other), do: bad!(Atom.to_string(key), "expected a map, got #{inspect(other)}")

  defp unknown_name(key) when is_atom(key), do: Atom.to_string(key)
  defp unknown_name(key), do: inspect(key)

  defp names(keys), do: Enum.map_join(keys, ", ", &inspect/1)

  # vintage_net_mobile's options -> ours (the rest is shared)
  defp from_mobile(root, options) do
    if Map.has_key?(options, :chatscript_additions) do
      bad!(
        "#{root}.chatscript_additions",
        "not supported: modem setup is done with AT commands by the modem profile, not a chat script; remove it"
      )
    end

    case Map.get(options, :service_providers) do
      [_, _ | _] ->
        bad!(
          "#{root}.service_providers",
          "vintage_net_mobile dialled only the first of several providers, but here providers are chosen by ICCID and the last one without only_iccid_prefixes wins; keep only the provider you use or add only_iccid_prefixes"
        )

      _ ->
        :ok
    end

    case Map.pop(options, :scan) do
      {nil, options} ->
        {options, "only_radio_technologies"}

      {_scan, %{only_radio_technologies: _}} ->
        bad!("#{root}.scan", "give either scan or only_radio_technologies, not both")

      {scan, options} ->
        {Map.put(options, :only_radio_technologies, scan), "scan"}
    end
  end

  # modem

  defp modem!(_root, :auto), do: :auto

  defp modem!(root, module) when is_atom(module) do
    case Map.fetch(mobile_modems(), inspect(module)) do
      {:ok, :auto} -> :auto
      {:ok, profile} -> profile!(root, profile, " (#{inspect(module)} maps to it)")
      :error -> profile!(root, module, "")
    end
  end

  defp modem!(root, other) do
    bad!("#{root}.modem", "expected :auto or a modem profile module, got #{inspect(other)}")
  end

  defp profile!(root, module, note) do
    if Code.ensure_loaded?(module) and function_exported?(module, :usb_ids, 0) do
      module
    else
      bad!(
        "#{root}.modem",
        "unknown modem #{inspect(module)}#{note}: expected :auto or a modem profile module (one with usb_ids/0, e.g. VintageNetCellular.Modem.QuectelEC25)"
      )
    end
  end

  # providers

  defp providers!(root, providers) when is_list(providers) and providers != [] do
    providers
    |> Enum.with_index()
    |> Enum.map(fn {provider, i} -> provider!("#{root}.service_providers[#{i}]", provider) end)
  end

  defp providers!(root, nil) do
    bad!(
      "#{root}.service_providers",
      "missing: give at least one provider, e.g. service_providers: [%{apn: \"internet\"}]"
    )
  end

  defp providers!(root, other) do
    bad!(
      "#{root}.service_providers",
      "expected a non-empty list of providers like %{apn: \"internet\"}, got #{inspect(other)}"
    )
  end

  defp provider!(path, provider) when is_map(provider) do
    if Map.has_key?(provider, :usage) do
      bad!(
        "#{path}.usage",
        "not supported: one PDP context serves every radio technology; keep the provider whose APN you want (usually the :eps_bearer one) and drop :usage"
      )
    end

    case Map.keys(provider) -- @provider_keys do
      [] -> :ok
      [unknown | _] -> bad!("#{path}.#{unknown_name(unknown)}", "unknown key; known keys: #{names(@provider_keys)}")
    end

    username = credential!("#{path}.username", unwrap(Map.get(provider, :username)), 1, 64)
    password = credential!("#{path}.password", Map.get(provider, :password), 0, 64)

    if password != nil and username == nil do
      bad!("#{path}.password", "given without a username")
    end

    %{
      apn: apn!("#{path}.apn", Map.get(provider, :apn)),
      only_iccid_prefixes: iccid_prefixes!("#{path}.only_iccid_prefixes", Map.get(provider, :only_iccid_prefixes)),
      username: username && %{password: username},
      password: password,
      auth: auth!("#{path}.auth", Map.get(provider, :auth), username),
      pdp_type: one_of!("#{path}.pdp_type", value(provider, :pdp_type, :ipv4), @pdp_types),
      roaming_allowed?: roaming!("#{path}.roaming_allowed?", Map.get(provider, :roaming_allowed?))
    }
  end

  defp provider!(path, other), do: bad!(path, "expected a map like %{apn: \"internet\"}, got #{inspect(other)}")

  defp apn!(path, nil), do: bad!(path, "missing: every provider needs an APN")
  defp apn!(path, ""), do: bad!(path, "empty: every provider needs an APN")

  defp apn!(path, apn) when is_binary(apn) do
    if byte_size(apn) > @max_apn do
      bad!(
        path,
        "#{byte_size(apn)} bytes long; an APN has at most #{@max_apn} characters (100 octets encoded, 3GPP TS 23.003)"
      )
    end

    case first_bad_byte(apn, &apn_byte?/1) do
      nil ->
        :ok

      {pos, byte} ->
        bad!(
          path,
          "#{describe(byte)} at position #{pos} is not allowed: an APN is labels of letters, digits and hyphens separated by dots (3GPP TS 23.003)"
        )
    end

    apn
    |> String.split(".")
    |> Enum.each(fn label ->
      cond do
        label == "" ->
          bad!(path, "#{inspect(apn)} has an empty label (a dot at the start or end, or two dots in a row)")

        byte_size(label) > @max_label ->
          bad!(path, "label #{inspect(label)} is longer than #{@max_label} characters")

        String.starts_with?(label, "-") or String.ends_with?(label, "-") ->
          bad!(path, "label #{inspect(label)} starts or ends with a hyphen (3GPP TS 23.003)")

        true ->
          :ok
      end
    end)

    apn
  end

  defp apn!(path, other), do: bad!(path, "expected a string, got #{inspect(other)}")

  defp apn_byte?(b), do: b in ?a..?z or b in ?A..?Z or b in ?0..?9 or b in [?-, ?.]

  defp iccid_prefixes!(_path, nil), do: nil
  defp iccid_prefixes!(path, []), do: bad!(path, "empty list: leave the key out (or nil) for a catch-all provider")

  defp iccid_prefixes!(path, prefixes) when is_list(prefixes) do
    prefixes
    |> Enum.with_index()
    |> Enum.map(fn {prefix, i} ->
      if is_binary(prefix) and prefix != "" and byte_size(prefix) <= 22 and digits?(prefix) do
        prefix
      else
        bad!("#{path}[#{i}]", "#{inspect(prefix)} is not an ICCID prefix: expected a string of 1 to 22 digits")
      end
    end)
  end

  defp iccid_prefixes!(path, other) do
    bad!(path, "expected a list of digit strings like [\"8988228\"], got #{inspect(other)}")
  end

  defp unwrap(%{password: value}), do: value
  defp unwrap(value), do: value

  defp credential!(_path, nil, _min, _max), do: nil

  defp credential!(path, value, min, max) when is_binary(value) do
    size = byte_size(value)

    if size < min or size > max do
      bad!(path, "must be #{min} to #{max} characters long (got #{size})")
    end

    case first_bad_byte(value, &credential_byte?/1) do
      nil ->
        value

      {pos, byte} ->
        bad!(
          path,
          "#{describe(byte)} at position #{pos} is not allowed: use printable ASCII without quotes, semicolons, backslashes or backticks"
        )
    end
  end

  defp credential!(path, _value, _min, _max), do: bad!(path, "expected a string")

  defp credential_byte?(b), do: b in 0x20..0x7E and b not in [?", ?', ?;, ?\\, ?`]

  defp auth!(_path, nil, nil), do: :none
  defp auth!(_path, nil, _username), do: :pap_or_chap

  defp auth!(path, :none, username) when is_binary(username) do
    bad!(path, ":none with a username: set auth to :pap, :chap or :pap_or_chap, or remove the username")
  end

  defp auth!(path, auth, nil) when auth in [:pap, :chap, :pap_or_chap] do
    bad!(path, "#{inspect(auth)} needs a username")
  end

  defp auth!(path, auth, _username), do: one_of!(path, auth, @auths)

  defp roaming!(_path, value) when is_boolean(value) or is_nil(value), do: value
  defp roaming!(path, other), do: bad!(path, "expected true, false or nil, got #{inspect(other)}")

  # hostname (top level, as vintage_net_qmi has it)

  defp put_hostname(config, nil), do: config
  defp put_hostname(config, hostname), do: Map.put(config, :hostname, hostname)

  defp hostname!(nil), do: nil
  defp hostname!(""), do: bad!("hostname", "empty: leave it out (or nil) for no hostname")

  defp hostname!(name) when is_binary(name) do
    if byte_size(name) > @max_hostname do
      bad!("hostname", "#{byte_size(name)} bytes long; a hostname has at most #{@max_hostname} characters (RFC 1123)")
    end

    case first_bad_byte(name, &hostname_byte?/1) do
      nil ->
        :ok

      {pos, byte} ->
        bad!(
          "hostname",
          "#{describe(byte)} at position #{pos} is not allowed: a hostname is labels of letters, digits and hyphens separated by dots (RFC 1123)"
        )
    end

    name
    |> String.split(".")
    |> Enum.each(fn label ->
      cond do
        label == "" ->
          bad!("hostname", "#{inspect(name)} has an empty label (a dot at the start or end, or two dots in a row)")

        byte_size(label) > @max_label ->
          bad!("hostname", "label #{inspect(label)} is longer than #{@max_label} characters")

        String.starts_with?(label, "-") or String.ends_with?(label, "-") ->
          bad!("hostname", "label #{inspect(label)} starts or ends with a hyphen (RFC 1123)")

        true ->
          :ok
      end
    end)

    name
  end

  defp hostname!(other), do: bad!("hostname", "expected a string like \"my-device\", got #{inspect(other)}")

  # Letters, digits and hyphens, as in an APN; dots separate labels.
  defp hostname_byte?(b), do: apn_byte?(b)

  # options

  defp sim_pin!(_root, nil), do: nil
  # Already normalized (VintageNet normalizes saved configs again at boot).
  defp sim_pin!(root, %{password: pin}), do: sim_pin!(root, pin)

  defp sim_pin!(root, pin) when is_binary(pin) do
    path = "#{root}.sim_pin"

    case first_bad_byte(pin, &(&1 in ?0..?9)) do
      nil -> :ok
      {pos, _byte} -> bad!(path, "position #{pos} is not a digit: a PIN is 4 to 8 digits")
    end

    if byte_size(pin) in 4..8,
      do: %{password: pin},
      else: bad!(path, "has #{byte_size(pin)} digits: a PIN is 4 to 8 digits")
  end

  defp sim_pin!(root, _pin) do
    bad!("#{root}.sim_pin", "expected a string of 4 to 8 digits (an integer would lose leading zeros)")
  end

  defp radio_technologies!(_path, nil), do: nil

  defp radio_technologies!(path, []) do
    bad!(path, "empty list: leave it out (or nil) to keep the modem's own setting")
  end

  defp radio_technologies!(path, rats) when is_list(rats) do
    rats
    |> Enum.each(fn rat ->
      if rat not in @radio_technologies do
        bad!(path, "unknown radio technology #{inspect(rat)}; use #{names(@radio_technologies)}")
      end
    end)

    Enum.uniq(rats)
  end

  defp radio_technologies!(path, other), do: bad!(path, "expected a list like [:lte], got #{inspect(other)}")

  defp dns!(_root, nil), do: nil
  defp dns!(root, []), do: bad!("#{root}.dns", "empty list: leave it out (or nil) to use the network's DNS servers")

  defp dns!(root, servers) when is_list(servers) do
    servers
    |> Enum.with_index()
    |> Enum.map(fn {server, i} -> ip!("#{root}.dns[#{i}]", server) end)
  end

  defp dns!(root, other), do: bad!("#{root}.dns", "expected a list of IP addresses, got #{inspect(other)}")

  defp ip!(path, address) when is_binary(address) do
    case :inet.parse_strict_address(String.to_charlist(address)) do
      {:ok, ip} -> ip
      {:error, _} -> bad!(path, "#{inspect(address)} is not an IP address")
    end
  end

  defp ip!(path, address) when is_tuple(address) do
    if ip_tuple?(address), do: address, else: bad!(path, "#{inspect(address)} is not an IP address")
  end

  defp ip!(path, other), do: bad!(path, "#{inspect(other)} is not an IP address")

  defp ip_tuple?({_, _, _, _} = ip), do: ip |> Tuple.to_list() |> Enum.all?(&(is_integer(&1) and &1 in 0..255))

  defp ip_tuple?({_, _, _, _, _, _, _, _} = ip),
    do: ip |> Tuple.to_list() |> Enum.all?(&(is_integer(&1) and &1 in 0..0xFFFF))

  defp ip_tuple?(_), do: false

  defp tty!(_path, nil), do: nil

  defp tty!(path, name) when is_binary(name) do
    if tty_name?(name) do
      name
    else
      bad!(
        path,
        "#{inspect(name)} is not a tty: use a device name like \"ttyUSB2\", \"ttyACM0\" or \"ttyAMA0\", or a path under /dev/ (no spaces, no \"..\")"
      )
    end
  end

  defp tty!(path, other), do: bad!(path, "expected a tty name like \"ttyUSB2\", got #{inspect(other)}")

  defp tty_name?("/dev/" <> rest) do
    segments = String.split(rest, "/")

    Enum.all?(segments, fn segment ->
      segment not in ["", ".", ".."] and
        first_bad_byte(segment, &tty_path_byte?/1) == nil
    end)
  end

  defp tty_name?("tty" <> rest) do
    rest != "" and first_bad_byte(rest, &tty_name_byte?/1) == nil
  end

  defp tty_name?(_), do: false

  defp tty_name_byte?(b), do: b in ?a..?z or b in ?A..?Z or b in ?0..?9 or b == ?_
  defp tty_path_byte?(b), do: tty_name_byte?(b) or b in [?-, ?., ?:, ?+, ?@]

  defp speed!(_root, speed) when speed in @speeds, do: speed

  defp speed!(root, other) do
    bad!("#{root}.speed", "#{inspect(other)} is not a standard baud rate; use one of #{Enum.join(@speeds, ", ")}")
  end

  defp flow_control!(root, value), do: one_of!("#{root}.flow_control", value, [:none, :hardware])

  defp usb_path!(_root, nil), do: nil

  defp usb_path!(root, path) do
    if is_binary(path) and Regex.match?(~r/\A[0-9]+-[0-9]+(\.[0-9]+)*\z/, path) do
      path
    else
      bad!("#{root}.usb_path", "#{inspect(path)} is not a USB port path like \"1-1.3\"")
    end
  end

  defp imei!(_root, nil), do: nil

  defp imei!(root, imei) do
    if is_binary(imei) and byte_size(imei) == 15 and digits?(imei) do
      imei
    else
      bad!("#{root}.imei", "#{inspect(imei)} is not an IMEI: expected a string of 15 digits")
    end
  end

  # helpers

  # A key that is absent or nil takes its default.
  defp value(map, key, default) do
    case Map.get(map, key) do
      nil -> default
      value -> value
    end
  end

  defp one_of!(path, value, allowed) do
    if value in allowed,
      do: value,
      else: bad!(path, "unknown value #{inspect(value)}; use #{names(allowed)}")
  end

  defp digits?(string), do: first_bad_byte(string, &(&1 in ?0..?9)) == nil

  # {1-based position, byte} of the first byte that fails `ok?`, or nil
  defp first_bad_byte(binary, ok?), do: first_bad_byte(binary, ok?, 1)

  defp first_bad_byte(<<b, rest::binary>>, ok?, pos) do
    if ok?.(b), do: first_bad_byte(rest, ok?, pos + 1), else: {pos, b}
  end

  defp first_bad_byte(<<>>, _ok?, _pos), do: nil

  defp describe(?"), do: "a double quote (\")"
  defp describe(?'), do: "a single quote (')"
  defp describe(?;), do: "a semicolon (;)"
  defp describe(?\\), do: "a backslash (\\)"
  defp describe(?`), do: "a backtick (`)"
  defp describe(?\r), do: "a carriage return (0x0D)"
  defp describe(?\n), do: "a line feed (0x0A)"
  defp describe(?\s), do: "a space"
  defp describe(b) when b < 0x20 or b == 0x7F, do: "control byte 0x#{hex(b)}"
  defp describe(b) when b > 0x7F, do: "non-ASCII byte 0x#{hex(b)}"
  defp describe(b), do: inspect(<<b>>)

  defp hex(b), do: b |> Integer.to_string(16) |> String.pad_leading(2, "0")

  @spec bad!(String.t(), String.t()) :: no_return()
  defp bad!(path, message), do: raise(ArgumentError, "#{path}: #{message}")
end
