defmodule VintageNetCellular.ServiceProvidersTest do
  use ExUnit.Case, async: true

  alias VintageNetCellular.ServiceProviders

  doctest ServiceProviders

  # Providers are written {apn, prefixes}; `nil` prefixes make a catch-all.

  @iccid_1nce "89882280000012345678"
  @iccid_other "89445000000000000001"

  # {description, providers, iccid, expected APN or :no_provider}
  @cases [
    {"single prefix match", [{"a", ["898822"]}], @iccid_1nce, "a"},
    {"prefix mismatch, no catch-all", [{"a", ["898822"]}], @iccid_other, :no_provider},
    {"empty provider list", [], @iccid_1nce, :no_provider},
    {"lone catch-all", [{"any", nil}], @iccid_other, "any"},
    {"first prefix match wins", [{"a", ["8988"]}, {"b", ["898822"]}], @iccid_1nce, "a"},
    {"second of several prefixes matches", [{"a", ["1234", "898822"]}], @iccid_1nce, "a"},
    {"prefix match beats an earlier catch-all", [{"any", nil}, {"a", ["898822"]}], @iccid_1nce, "a"},
    {"prefix after catch-all still wins", [{"any", nil}, {"b", ["1"]}, {"a", ["898822"]}], @iccid_1nce, "a"},
    {"no prefix match: catch-all", [{"a", ["898822"]}, {"any", nil}], @iccid_other, "any"},
    {"last catch-all wins", [{"first", nil}, {"a", ["898822"]}, {"last", nil}], @iccid_other, "last"},
    {"last catch-all wins even before a non-matching prefix", [{"first", nil}, {"last", nil}, {"a", ["1234"]}],
     @iccid_other, "last"},
    {"nil ICCID: only catch-alls", [{"a", ["898822"]}, {"any", nil}], nil, "any"},
    {"nil ICCID, no catch-all", [{"a", ["898822"]}], nil, :no_provider},
    {"whole ICCID as prefix", [{"a", [@iccid_1nce]}], @iccid_1nce, "a"},
    {"prefix longer than the ICCID", [{"a", [@iccid_1nce <> "9"]}], @iccid_1nce, :no_provider},
    {"empty ICCID: only catch-alls", [{"a", ["8"]}, {"any", nil}], "", "any"}
  ]

  for {description, providers, iccid, expected} <- @cases do
    test description do
      providers =
        for {apn, prefixes} <- unquote(Macro.escape(providers)),
            do: %{apn: apn, only_iccid_prefixes: prefixes}

      result = ServiceProviders.select(providers, unquote(iccid))

      case unquote(expected) do
        :no_provider -> assert result == {:error, :no_provider}
        apn -> assert {:ok, %{apn: ^apn}} = result
      end
    end
  end

  test "a provider without the key at all (raw vintage_net_qmi map) is a catch-all" do
    providers = [%{apn: "a", only_iccid_prefixes: ["1"]}, %{apn: "raw"}]
    assert {:ok, %{apn: "raw"}} = ServiceProviders.select(providers, @iccid_1nce)
  end

  test "returns the provider map itself, untouched" do
    provider = %{apn: "a", only_iccid_prefixes: ["898822"], username: "u", pdp_type: :ipv4v6}
    assert ServiceProviders.select([provider], @iccid_1nce) == {:ok, provider}
  end

  test "works on normalized providers" do
    config =
      VintageNetCellular.Config.normalize(%{
        type: VintageNetCellular,
        vintage_net_cellular: %{
          service_providers: [
            %{apn: "iot.1nce.net", only_iccid_prefixes: ["8988228"]},
            %{apn: "internet"}
          ]
        }
      })

    providers = config.vintage_net_cellular.service_providers
    assert {:ok, %{apn: "iot.1nce.net"}} = ServiceProviders.select(providers, @iccid_1nce)
    assert {:ok, %{apn: "internet"}} = ServiceProviders.select(providers, @iccid_other)
  end
end
