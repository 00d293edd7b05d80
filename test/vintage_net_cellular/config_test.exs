defmodule VintageNetCellular.ConfigTest do
  use ExUnit.Case, async: true

  alias VintageNetCellular.Config

  doctest Config

  defmodule FakeProfile do
    @moduledoc false
    def usb_ids, do: [{0x2C7C, 0x0125}]
  end

  defp cellular(options), do: %{type: VintageNetCellular, vintage_net_cellular: options}
  defp with_provider(provider), do: cellular(%{service_providers: [provider]})

  defp normalized_options(config), do: Config.normalize(config).vintage_net_cellular
  defp provider(provider), do: hd(normalized_options(with_provider(provider)).service_providers)

  # Asserts an ArgumentError whose message starts with `path` and contains every
  # string in `parts`; returns the message.
  defp rejects(config, path, parts) do
    error = assert_raise ArgumentError, fn -> Config.normalize(config) end
    assert String.starts_with?(error.message, path <> ": "), "message: #{error.message}"
    for part <- List.wrap(parts), do: assert(error.message =~ part, "message: #{error.message}")
    error.message
  end

  describe "defaults and canonical form" do
    test "a minimal config gets every default" do
      assert normalized_options(cellular(%{service_providers: [%{apn: "internet"}]})) == %{
               modem: :auto,
               service_providers: [
                 %{
                   apn: "internet",
                   only_iccid_prefixes: nil,
                   username: nil,
                   password: nil,
                   auth: :none,
                   pdp_type: :ipv4,
                   roaming_allowed?: nil
                 }
               ],
               sim_pin: nil,
               only_radio_technologies: nil,
               dns: nil,
               at_tty: nil,
               ppp_tty: nil,
               speed: 115_200,
               flow_control: :none,
               usb_path: nil,
               imei: nil,
               data_path: :ppp,
               cmux: :auto
             }
    end

    test "cmux takes :auto, true or false and names the key otherwise" do
      for value <- [:auto, true, false] do
        assert Config.normalize(cellular(%{service_providers: [%{apn: "a"}], cmux: value})).vintage_net_cellular.cmux ==
                 value
      end

      assert_raise ArgumentError, ~r/vintage_net_cellular\.cmux: unknown value :yes; use :auto, true, false/, fn ->
        Config.normalize(cellular(%{service_providers: [%{apn: "a"}], cmux: :yes}))
      end
    end

    test "data_path takes :ppp, :usb_net or :auto and names the key otherwise" do
      for path <- [:ppp, :usb_net, :auto] do
        assert Config.normalize(cellular(%{service_providers: [%{apn: "a"}], data_path: path})).vintage_net_cellular.data_path ==
                 path
      end

      assert_raise ArgumentError,
                   ~r/vintage_net_cellular\.data_path: unknown value :ecm; use :ppp, :usb_net, :auto/,
                   fn ->
                     Config.normalize(cellular(%{service_providers: [%{apn: "a"}], data_path: :ecm}))
                   end
    end

    test "the issue's example keeps every value and fills the rest" do
      config =
        cellular(%{
          modem: :auto,
          service_providers: [
            %{apn: "iot.1nce.net", only_iccid_prefixes: ["8988228"]},
            %{
              apn: "super",
              username: "u",
              password: "p",
              auth: :chap,
              pdp_type: :ipv4v6,
              roaming_allowed?: true
            },
            %{apn: "internet"}
          ],
          sim_pin: "1234",
          only_radio_technologies: [:lte, :lte_cat_m1],
          dns: [{1, 1, 1, 1}],
          at_tty: nil,
          ppp_tty: nil,
          speed: 115_200,
          flow_control: :none,
          usb_path: nil,
          imei: nil
        })

      result = Config.normalize(config)
      assert result.type == VintageNetCellular
      options = result.vintage_net_cellular

      assert [first, second, third] = options.service_providers
      assert first.only_iccid_prefixes == ["8988228"]
      assert first.auth == :none

      assert second == %{
               apn: "super",
               only_iccid_prefixes: nil,
               username: %{password: "u"},
               password: "p",
               auth: :chap,
               pdp_type: :ipv4v6,
               roaming_allowed?: true
             }

      assert third.apn == "internet"
      assert options.sim_pin == %{password: "1234"}
      assert options.only_radio_technologies == [:lte, :lte_cat_m1]
      assert options.dns == [{1, 1, 1, 1}]
    end

    test "normalizing twice gives the same map" do
      config =
        cellular(%{
          modem: FakeProfile,
          service_providers: [
            %{apn: "a", only_iccid_prefixes: ["89"], username: "u", roaming_allowed?: false},
            %{apn: "b", pdp_type: :ipv6}
          ],
          sim_pin: "0000",
          only_radio_technologies: [:lte, :lte, :gsm],
          dns: ["8.8.8.8", "2001:4860:4860::8888"],
          at_tty: "ttyUSB2",
          ppp_tty: "/dev/ttyUSB3",
          speed: 921_600,
          flow_control: :hardware,
          usb_path: "1-1.3",
          imei: "123456789012345"
        })

      once = Config.normalize(config)
      assert Config.normalize(once) == once
    end

    test "nil means the default" do
      config =
        cellular(%{
          modem: nil,
          speed: nil,
          flow_control: nil,
          service_providers: [%{apn: "a", pdp_type: nil, auth: nil, only_iccid_prefixes: nil}]
        })

      assert normalized_options(config) == normalized_options(cellular(%{service_providers: [%{apn: "a"}]}))
    end

    test "a username alone defaults auth to :pap_or_chap" do
      assert %{auth: :pap_or_chap, password: nil} = provider(%{apn: "a", username: "u"})
    end

    test "radio technologies keep their order and lose duplicates" do
      options =
        normalized_options(
          cellular(%{service_providers: [%{apn: "a"}], only_radio_technologies: [:lte_cat_m1, :gsm, :lte_cat_m1]})
        )

      assert options.only_radio_technologies == [:lte_cat_m1, :gsm]
    end

    test "DNS strings become tuples, tuples stay" do
      options = normalized_options(cellular(%{service_providers: [%{apn: "a"}], dns: ["1.1.1.1", {9, 9, 9, 9}, "::1"]}))
      assert options.dns == [{1, 1, 1, 1}, {9, 9, 9, 9}, {0, 0, 0, 0, 0, 0, 0, 1}]
    end

    test "a loaded profile module with usb_ids/0 is accepted" do
      assert normalized_options(cellular(%{modem: FakeProfile, service_providers: [%{apn: "a"}]})).modem ==
               FakeProfile
    end

    test "type may be left out; the result has it" do
      assert %{type: VintageNetCellular} =
               Config.normalize(%{vintage_net_cellular: %{service_providers: [%{apn: "a"}]}})
    end
  end

  describe "APNs" do
    for apn <- [
          "internet",
          "iot.1nce.net",
          "m2m.com.attz",
          "fast.t-mobile.com",
          "internet.mnc001.mcc234.gprs",
          "A1",
          "wireless.twilio.com"
        ] do
      test "accepts #{apn}" do
        assert provider(%{apn: unquote(apn)}).apn == unquote(apn)
      end
    end

    test "missing, empty or not a string" do
      rejects(with_provider(%{username: "u"}), "vintage_net_cellular.service_providers[0].apn", "missing")
      rejects(with_provider(%{apn: ""}), "vintage_net_cellular.service_providers[0].apn", "empty")
      rejects(with_provider(%{apn: :internet}), "vintage_net_cellular.service_providers[0].apn", "string")
      rejects(with_provider(%{apn: nil}), "vintage_net_cellular.service_providers[0].apn", "missing")
    end

    test "names the provider index" do
      config = cellular(%{service_providers: [%{apn: "ok"}, %{apn: "ok2"}, %{apn: "b_d"}]})
      rejects(config, "vintage_net_cellular.service_providers[2].apn", ["\"_\"", "position 2"])
    end

    # {bad apn, expected words in the message}
    for {apn, words} <- [
          {~s(inter"net), ["a double quote", "position 6"]},
          {"inter'net", ["a single quote", "position 6"]},
          {"internet\r", ["carriage return", "position 9"]},
          {"internet\nATD", ["line feed", "position 9"]},
          {"internet;+CFUN=0", ["semicolon", "position 9"]},
          {~s(internet",1\r\nAT+CFUN=0), ["double quote", "position 9"]},
          {"inter\x01net", ["control byte 0x01", "position 6"]},
          {"inter\x7Fnet", ["control byte 0x7F"]},
          {"intér", ["non-ASCII byte 0xC3", "position 4"]},
          {"my apn", ["a space", "position 3"]},
          {"my_apn", ["\"_\"", "position 3"]},
          {"a,b", ["\",\""]},
          {"a\\b", ["backslash"]},
          {"a`b", ["backtick"]}
        ] do
      test "rejects #{inspect(apn)}" do
        rejects(
          with_provider(%{apn: unquote(apn)}),
          "vintage_net_cellular.service_providers[0].apn",
          ["3GPP TS 23.003" | unquote(words)]
        )
      end
    end

    for {apn, word} <- [
          {".internet", "empty label"},
          {"internet.", "empty label"},
          {"inter..net", "empty label"},
          {"-internet", "hyphen"},
          {"internet-.com", "hyphen"},
          {"a.-b", "hyphen"}
        ] do
      test "rejects the label structure of #{inspect(apn)}" do
        rejects(with_provider(%{apn: unquote(apn)}), "vintage_net_cellular.service_providers[0].apn", unquote(word))
      end
    end

    test "labels are at most 63 characters" do
      ok = String.duplicate("a", 63)
      assert provider(%{apn: ok <> ".b"}).apn == ok <> ".b"

      rejects(
        with_provider(%{apn: String.duplicate("a", 64) <> ".b"}),
        "vintage_net_cellular.service_providers[0].apn",
        "longer than 63"
      )
    end

    test "an APN is at most 99 characters (100 octets encoded)" do
      longest = Enum.join(List.duplicate(String.duplicate("a", 49), 2), ".")
      assert byte_size(longest) == 99
      assert provider(%{apn: longest}).apn == longest

      rejects(with_provider(%{apn: longest <> "a"}), "vintage_net_cellular.service_providers[0].apn", "at most 99")
    end
  end

  describe "service_providers" do
    test "missing, empty or not a list" do
      rejects(cellular(%{}), "vintage_net_cellular.service_providers", "missing")
      rejects(cellular(%{service_providers: []}), "vintage_net_cellular.service_providers", "non-empty")
      rejects(cellular(%{service_providers: %{apn: "a"}}), "vintage_net_cellular.service_providers", "list")
      rejects(cellular(%{service_providers: ["internet"]}), "vintage_net_cellular.service_providers[0]", "map")
    end

    test "unknown provider keys are named" do
      rejects(with_provider(%{apn: "a", user: "u"}), "vintage_net_cellular.service_providers[0].user", "unknown key")
    end
  end

  describe "only_iccid_prefixes" do
    test "accepts a list of digit strings" do
      assert provider(%{apn: "a", only_iccid_prefixes: ["8988228", "1"]}).only_iccid_prefixes == ["8988228", "1"]
    end

    for {prefixes, path_suffix, word} <- [
          {[], "", "empty list"},
          {"8988228", "", "list"},
          {["89a8"], "[0]", "not an ICCID prefix"},
          {["898", ""], "[1]", "not an ICCID prefix"},
          {[8988], "[0]", "not an ICCID prefix"},
          {[" 898"], "[0]", "not an ICCID prefix"},
          {[String.duplicate("8", 23)], "[0]", "1 to 22 digits"}
        ] do
      test "rejects #{inspect(prefixes)}" do
        rejects(
          with_provider(%{apn: "a", only_iccid_prefixes: unquote(Macro.escape(prefixes))}),
          "vintage_net_cellular.service_providers[0].only_iccid_prefixes" <> unquote(path_suffix),
          unquote(word)
        )
      end
    end
  end

  describe "credentials and auth" do
    for auth <- [:pap, :chap, :pap_or_chap] do
      test "auth #{inspect(auth)} without a username" do
        rejects(
          with_provider(%{apn: "a", auth: unquote(auth)}),
          "vintage_net_cellular.service_providers[0].auth",
          "needs a username"
        )
      end

      test "auth #{inspect(auth)} with a username" do
        assert provider(%{apn: "a", username: "u", password: "p", auth: unquote(auth)}).auth == unquote(auth)
      end
    end

    test "auth :none with a username" do
      rejects(
        with_provider(%{apn: "a", username: "u", auth: :none}),
        "vintage_net_cellular.service_providers[0].auth",
        ":none"
      )
    end

    test "unknown auth" do
      rejects(
        with_provider(%{apn: "a", username: "u", auth: :mschap}),
        "vintage_net_cellular.service_providers[0].auth",
        ":mschap"
      )
    end

    test "a password without a username" do
      rejects(
        with_provider(%{apn: "a", password: "secret1"}),
        "vintage_net_cellular.service_providers[0].password",
        "without a username"
      )
    end

    test "an empty password is allowed, an empty username is not" do
      assert provider(%{apn: "a", username: "u", password: ""}).password == ""
      rejects(with_provider(%{apn: "a", username: ""}), "vintage_net_cellular.service_providers[0].username", "1 to 64")
    end

    test "printable ASCII with spaces and symbols is fine" do
      value = "us er!#$%&()*+,-./:<=>?@[]^_{|}~"
      assert provider(%{apn: "a", username: value, password: value}).password == value
    end

    test "length limits" do
      long = String.duplicate("x", 65)

      rejects(
        with_provider(%{apn: "a", username: long}),
        "vintage_net_cellular.service_providers[0].username",
        "1 to 64"
      )

      rejects(
        with_provider(%{apn: "a", username: "u", password: long}),
        "vintage_net_cellular.service_providers[0].password",
        "0 to 64"
      )

      assert Config.username(provider(%{apn: "a", username: String.duplicate("x", 64)})) == String.duplicate("x", 64)
    end

    # VintageNet.info redacts by key only: the username is kept under a
    # :password key, and the wrapped form is accepted back (normalize is
    # idempotent, as VintageNet calls it again on saved configurations).
    test "the username is kept as %{password: username}" do
      normalized = provider(%{apn: "a", username: "someone", password: "secret"})
      assert normalized.username == %{password: "someone"}
      assert provider(normalized) == normalized
      assert Config.runtime_provider(normalized).username == "someone"

      rejects(
        with_provider(%{apn: "a", username: %{password: "a;b"}}),
        "vintage_net_cellular.service_providers[0].username",
        "semicolon (;) at position 2"
      )
    end

    for {bad, word} <- [
          {"\"", "double quote"},
          {"'", "single quote"},
          {";", "semicolon"},
          {"\\", "backslash"},
          {"`", "backtick"},
          {"\r", "carriage return"},
          {"\n", "line feed"},
          {"\t", "control byte 0x09"},
          {<<0>>, "control byte 0x00"},
          {"é", "non-ASCII byte 0xC3"}
        ] do
      test "username and password reject #{word}" do
        bad_value = "ab" <> unquote(bad) <> "cd"

        rejects(
          with_provider(%{apn: "a", username: bad_value}),
          "vintage_net_cellular.service_providers[0].username",
          [unquote(word), "position 3"]
        )

        secret = "Sekr1t" <> unquote(bad) <> "Pw"

        message =
          rejects(
            with_provider(%{apn: "a", username: "u", password: secret}),
            "vintage_net_cellular.service_providers[0].password",
            [unquote(word), "position 7"]
          )

        refute message =~ "Sekr1t"
        refute message =~ "Pw"
      end
    end

    test "a non-string password is rejected without echoing it" do
      message =
        rejects(
          with_provider(%{apn: "a", username: "u", password: 12_345_678}),
          "vintage_net_cellular.service_providers[0].password",
          "string"
        )

      refute message =~ "12345678"
    end
  end

  describe "pdp_type and roaming" do
    test "known PDP types" do
      for type <- [:ipv4, :ipv6, :ipv4v6], do: assert(provider(%{apn: "a", pdp_type: type}).pdp_type == type)
    end

    test "unknown PDP type" do
      rejects(with_provider(%{apn: "a", pdp_type: :ip}), "vintage_net_cellular.service_providers[0].pdp_type", [
        ":ip",
        ":ipv4v6"
      ])

      rejects(
        with_provider(%{apn: "a", pdp_type: "IPV4V6"}),
        "vintage_net_cellular.service_providers[0].pdp_type",
        "unknown value"
      )
    end

    test "roaming_allowed? is a boolean or nil" do
      assert provider(%{apn: "a", roaming_allowed?: false}).roaming_allowed? == false

      rejects(
        with_provider(%{apn: "a", roaming_allowed?: "yes"}),
        "vintage_net_cellular.service_providers[0].roaming_allowed?",
        "true, false or nil"
      )
    end
  end

  describe "options" do
    defp opts(extra), do: cellular(Map.put(extra, :service_providers, [%{apn: "a"}]))

    test "unknown radio technology" do
      rejects(opts(%{only_radio_technologies: [:lte, :wimax]}), "vintage_net_cellular.only_radio_technologies", [
        ":wimax",
        ":nr5g"
      ])

      rejects(opts(%{only_radio_technologies: []}), "vintage_net_cellular.only_radio_technologies", "empty list")
      rejects(opts(%{only_radio_technologies: :lte}), "vintage_net_cellular.only_radio_technologies", "list")
    end

    test "every known radio technology" do
      rats = [:gsm, :umts, :lte, :lte_cat_m1, :lte_cat_nb1, :nr5g]
      assert normalized_options(opts(%{only_radio_technologies: rats})).only_radio_technologies == rats
    end

    test "unknown modem" do
      rejects(opts(%{modem: String}), "vintage_net_cellular.modem", ["unknown modem String", "usb_ids/0"])
      rejects(opts(%{modem: NoSuch.Modem}), "vintage_net_cellular.modem", "unknown modem NoSuch.Modem")
      rejects(opts(%{modem: "QuectelEC25"}), "vintage_net_cellular.modem", ":auto")
    end

    for good <- [
          "ttyUSB2",
          "ttyACM0",
          "ttyS1",
          "ttyAMA0",
          "ttymxc1",
          "/dev/ttyUSB3",
          "/dev/serial/by-id/usb-Quectel_EG25-G-if02-port0"
        ] do
      test "tty #{good} is accepted" do
        options = normalized_options(opts(%{at_tty: unquote(good), ppp_tty: unquote(good)}))
        assert options.at_tty == unquote(good)
        assert options.ppp_tty == unquote(good)
      end
    end

    for bad <- [
          "tty USB2",
          "../ttyUSB2",
          "/dev/../etc/passwd",
          "/dev/./ttyUSB2",
          "USB2",
          "tty",
          "",
          "/dev/",
          "/dev//ttyUSB2",
          "ttyUSB2\n",
          "/dev/tty USB2",
          "ttyUSB2;reboot"
        ] do
      test "tty #{inspect(bad)} is rejected" do
        rejects(opts(%{at_tty: unquote(bad)}), "vintage_net_cellular.at_tty", "not a tty")
        rejects(opts(%{ppp_tty: unquote(bad)}), "vintage_net_cellular.ppp_tty", "not a tty")
      end
    end

    test "a tty that isn't a string" do
      rejects(opts(%{at_tty: :ttyUSB2}), "vintage_net_cellular.at_tty", "tty name")
    end

    test "speed must be a standard baud rate" do
      for speed <- [9600, 57_600, 460_800, 3_000_000],
          do: assert(normalized_options(opts(%{speed: speed})).speed == speed)

      for bad <- [115_201, 0, -9600, "115200", 115_200.0] do
        rejects(opts(%{speed: bad}), "vintage_net_cellular.speed", "standard baud rate")
      end
    end

    test "flow control" do
      assert normalized_options(opts(%{flow_control: :hardware})).flow_control == :hardware
      rejects(opts(%{flow_control: :xon_xoff}), "vintage_net_cellular.flow_control", ":xon_xoff")
    end

    test "dns" do
      rejects(opts(%{dns: ["1.1.1"]}), "vintage_net_cellular.dns[0]", "not an IP address")
      rejects(opts(%{dns: [{1, 1, 1, 1}, {256, 0, 0, 0}]}), "vintage_net_cellular.dns[1]", "not an IP address")
      rejects(opts(%{dns: [{1, 1, 1}]}), "vintage_net_cellular.dns[0]", "not an IP address")
      rejects(opts(%{dns: ["dns.google"]}), "vintage_net_cellular.dns[0]", "not an IP address")
      rejects(opts(%{dns: []}), "vintage_net_cellular.dns", "empty list")
      rejects(opts(%{dns: "1.1.1.1"}), "vintage_net_cellular.dns", "list")
    end

    test "sim_pin is 4 to 8 digits and never echoed" do
      for pin <- ["1234", "00000000"] do
        assert normalized_options(opts(%{sim_pin: pin})).sim_pin == %{password: pin}
        # The normalized form normalizes to itself (VintageNet re-normalizes saved configs).
        assert normalized_options(opts(%{sim_pin: %{password: pin}})).sim_pin == %{password: pin}
        assert VintageNetCellular.Config.sim_pin(normalized_options(opts(%{sim_pin: pin}))) == pin
      end

      for {pin, word} <- [
            {"987", "3 digits"},
            {"987654321", "9 digits"},
            {"98a7", "position 3"},
            {"98\r7", "position 3"},
            {"98;7", "position 3"}
          ] do
        message = rejects(opts(%{sim_pin: pin}), "vintage_net_cellular.sim_pin", word)
        refute message =~ "987"
        refute message =~ "98"
      end

      message = rejects(opts(%{sim_pin: 9876}), "vintage_net_cellular.sim_pin", "string")
      refute message =~ "9876"
    end

    test "usb_path and imei" do
      assert normalized_options(opts(%{usb_path: "1-1"})).usb_path == "1-1"
      assert normalized_options(opts(%{usb_path: "3-1.4.2"})).usb_path == "3-1.4.2"
      rejects(opts(%{usb_path: "1-1.3/"}), "vintage_net_cellular.usb_path", "USB port path")
      rejects(opts(%{usb_path: "usb1"}), "vintage_net_cellular.usb_path", "USB port path")
      rejects(opts(%{imei: "12345678901234"}), "vintage_net_cellular.imei", "15 digits")
      rejects(opts(%{imei: 123_456_789_012_345}), "vintage_net_cellular.imei", "15 digits")
    end

    test "unknown option keys" do
      rejects(opts(%{serivce_providers: []}), "vintage_net_cellular.serivce_providers", [
        "unknown key",
        ":service_providers"
      ])
    end
  end

  describe "the config map itself" do
    test "wrong type" do
      rejects(
        %{type: VintageNetMobile, vintage_net_cellular: %{service_providers: [%{apn: "a"}]}},
        "type",
        "VintageNetCellular"
      )
    end

    test "no options key" do
      rejects(%{type: VintageNetCellular}, "vintage_net_cellular", "missing")
    end

    test "two options keys" do
      rejects(
        %{type: VintageNetCellular, vintage_net_cellular: %{}, vintage_net_qmi: %{}},
        ":vintage_net_cellular, :vintage_net_qmi",
        "only one"
      )
    end

    test "unknown top-level key" do
      rejects(Map.put(with_provider(%{apn: "a"}), :ipv4, %{method: :dhcp}), ":ipv4", "unknown key")
    end

    test "options that aren't a map, and a config that isn't a map" do
      rejects(%{type: VintageNetCellular, vintage_net_cellular: [service_providers: []]}, "vintage_net_cellular", "map")
      rejects("ppp0", "config", "map")
    end
  end

  describe "migration from vintage_net_mobile" do
    defp mobile(options), do: %{type: VintageNetCellular, vintage_net_mobile: options}

    test "the modem mapping table" do
      assert Config.mobile_modems() == %{
               "VintageNetMobile.Modem.Automatic" => :auto,
               "VintageNetMobile.Modem.QuectelBG96" => VintageNetCellular.Modem.QuectelBG96,
               "VintageNetMobile.Modem.QuectelEC25" => VintageNetCellular.Modem.QuectelEC25,
               "VintageNetMobile.Modem.TelitLE910" => VintageNetCellular.Modem.TelitLE910,
               "VintageNetMobile.Modem.UbloxTOBYL2" => VintageNetCellular.Modem.UbloxLara,
               "VintageNetMobile.Modem.HuaweiE3372" => VintageNetCellular.Modem.HuaweiE3372,
               "VintageNetMobile.Modem.SierraHL8548" => VintageNetCellular.Modem.Generic
             }
    end

    test "Automatic becomes :auto and the key becomes :vintage_net_cellular" do
      result =
        Config.normalize(
          mobile(%{
            modem: VintageNetMobile.Modem.Automatic,
            service_providers: [%{apn: "wireless.twilio.com"}]
          })
        )

      assert Map.keys(result) == [:type, :vintage_net_cellular]
      assert result.vintage_net_cellular.modem == :auto
      assert [%{apn: "wireless.twilio.com", only_iccid_prefixes: nil}] = result.vintage_net_cellular.service_providers
    end

    test "every mapped vintage_net_mobile modem normalizes to its profile" do
      for {name, profile} <- Config.mobile_modems() do
        config = mobile(%{modem: Module.concat([name]), service_providers: [%{apn: "a"}]})
        assert normalized_options(config).modem == profile, name
      end
    end

    test "our own profiles are accepted directly" do
      for profile <- [VintageNetCellular.Modem.QuectelEC25, VintageNetCellular.Modem.Generic] do
        assert normalized_options(cellular(%{modem: profile, service_providers: [%{apn: "a"}]})).modem == profile
      end
    end

    test "a vintage_net_mobile modem without a counterpart is unknown" do
      rejects(
        mobile(%{modem: VintageNetMobile.Modem.QuectelEG915Q, service_providers: [%{apn: "a"}]}),
        "vintage_net_mobile.modem",
        "unknown modem VintageNetMobile.Modem.QuectelEG915Q"
      )
    end

    test "scan becomes only_radio_technologies; ttys are kept" do
      options =
        normalized_options(
          mobile(%{
            modem: VintageNetMobile.Modem.Automatic,
            service_providers: [%{apn: "super"}],
            scan: [:lte_cat_m1, :gsm],
            at_tty: "ttyUSB2",
            ppp_tty: "ttyUSB3"
          })
        )

      assert options.only_radio_technologies == [:lte_cat_m1, :gsm]
      assert options.at_tty == "ttyUSB2"
      assert options.ppp_tty == "ttyUSB3"
    end

    test "a bad scan entry is reported as scan" do
      rejects(
        mobile(%{service_providers: [%{apn: "a"}], scan: [:lte_cat_m2]}),
        "vintage_net_mobile.scan",
        ":lte_cat_m2"
      )
    end

    test "scan and only_radio_technologies together" do
      rejects(
        mobile(%{service_providers: [%{apn: "a"}], scan: [:gsm], only_radio_technologies: [:lte]}),
        "vintage_net_mobile.scan",
        "not both"
      )
    end

    test "several providers (vintage_net_mobile used the first) are refused with an explanation" do
      rejects(mobile(%{service_providers: [%{apn: "a"}, %{apn: "b"}]}), "vintage_net_mobile.service_providers", [
        "first",
        "ICCID"
      ])
    end

    test "usage (TOBY-L2) is refused with a hint" do
      rejects(
        mobile(%{service_providers: [%{apn: "lte-apn", usage: :eps_bearer}]}),
        "vintage_net_mobile.service_providers[0].usage",
        ":eps_bearer"
      )
    end

    test "chatscript_additions is refused" do
      rejects(
        mobile(%{service_providers: [%{apn: "a"}], chatscript_additions: "OK AT"}),
        "vintage_net_mobile.chatscript_additions",
        "not supported"
      )
    end

    test "errors name the key the user wrote" do
      rejects(mobile(%{service_providers: [%{apn: "a b"}]}), "vintage_net_mobile.service_providers[0].apn", "a space")
    end
  end

  describe "migration from vintage_net_qmi" do
    test "the README's configuration normalizes unchanged in meaning" do
      result =
        Config.normalize(%{
          type: VintageNetCellular,
          vintage_net_qmi: %{
            service_providers: [
              %{apn: "favorite-apn", only_iccid_prefixes: ["1234"]},
              %{apn: "second-favorite-apn", only_iccid_prefixes: ["56789"], roaming_allowed?: true},
              %{apn: "last-resort-apn"}
            ],
            only_radio_technologies: [:lte, :umts]
          }
        })

      assert Map.keys(result) == [:type, :vintage_net_cellular]
      options = result.vintage_net_cellular
      assert options.only_radio_technologies == [:lte, :umts]

      assert [
               %{apn: "favorite-apn", only_iccid_prefixes: ["1234"], roaming_allowed?: nil},
               %{apn: "second-favorite-apn", only_iccid_prefixes: ["56789"], roaming_allowed?: true},
               %{apn: "last-resort-apn", only_iccid_prefixes: nil}
             ] = options.service_providers

      assert {:ok, %{apn: "second-favorite-apn"}} =
               VintageNetCellular.ServiceProviders.select(options.service_providers, "5678900000")
    end

    test "a top-level hostname is kept in the normalized config" do
      config = %{
        type: VintageNetCellular,
        vintage_net_qmi: %{service_providers: [%{apn: "internet"}]},
        hostname: "field-unit-7"
      }

      result = Config.normalize(config)
      assert result.hostname == "field-unit-7"
      assert Map.keys(result) == [:hostname, :type, :vintage_net_cellular]
      # Normalizing again gives the same map (VintageNet compares them).
      assert Config.normalize(result) == result

      assert Config.normalize(Map.put(with_provider(%{apn: "a"}), :hostname, "a.b-c.example")).hostname ==
               "a.b-c.example"
    end

    test "no hostname, or nil, leaves the key out" do
      refute Map.has_key?(Config.normalize(with_provider(%{apn: "a"})), :hostname)
      refute Map.has_key?(Config.normalize(Map.put(with_provider(%{apn: "a"}), :hostname, nil)), :hostname)
    end

    test "a bad hostname is refused naming the key" do
      config = with_provider(%{apn: "a"})
      rejects(Map.put(config, :hostname, :device), "hostname", "expected a string")
      rejects(Map.put(config, :hostname, ""), "hostname", "empty")
      rejects(Map.put(config, :hostname, "my device"), "hostname", ["a space", "position 3"])
      rejects(Map.put(config, :hostname, "dev_1"), "hostname", "RFC 1123")
      rejects(Map.put(config, :hostname, "-dev"), "hostname", "hyphen")
      rejects(Map.put(config, :hostname, "dev..local"), "hostname", "empty label")
      rejects(Map.put(config, :hostname, String.duplicate("a", 64)), "hostname", "longer than 63")
      long = Enum.map_join(1..64, ".", fn _ -> "abc" end)
      rejects(Map.put(config, :hostname, long), "hostname", "at most 253")
    end

    test "several catch-alls are allowed, as in vintage_net_qmi" do
      options = normalized_options(%{vintage_net_qmi: %{service_providers: [%{apn: "a"}, %{apn: "b"}]}})
      assert length(options.service_providers) == 2
    end

    test "CDMA radio technologies are refused" do
      for rat <- [:cdma_1x, :cdma_1x_evdo, :amps] do
        rejects(
          %{vintage_net_qmi: %{service_providers: [%{apn: "a"}], only_radio_technologies: [rat]}},
          "vintage_net_qmi.only_radio_technologies",
          inspect(rat)
        )
      end
    end

    test "apn underscore from QMI examples is refused with the 3GPP reason" do
      rejects(
        %{vintage_net_qmi: %{service_providers: [%{apn: "favorite_apn"}]}},
        "vintage_net_qmi.service_providers[0].apn",
        "3GPP"
      )
    end
  end
end
