defmodule VintageNetCellular.OperatorsTest do
  use ExUnit.Case, async: true
  doctest VintageNetCellular.Operators

  alias VintageNetCellular.Operators

  describe "real rows" do
    test "310/410 is AT&T" do
      assert %{brand: "AT&T", operator: "AT&T Mobility", country: "United States of America", iso: "US"} =
               Operators.lookup("310", "410")

      assert Operators.provider_name("310", "410") == "AT&T"
    end

    test "310/260 is T-Mobile" do
      assert %{brand: "T-Mobile", operator: "T-Mobile USA", iso: "US"} = Operators.lookup("310", "260")
      assert Operators.provider_name("310", "260") == "T-Mobile"
    end

    test "262/01 (2-digit MNC) is Telekom Germany" do
      assert %{iso: "DE", mcc: "262", mnc: "01"} = Operators.lookup("262", "01")
    end
  end

  test "unknown pairs are nil" do
    assert Operators.lookup("999", "99") == nil
    assert Operators.lookup("310", "999") == nil
    assert Operators.lookup("", "") == nil
    assert Operators.provider_name("001", "01") == nil
  end

  describe "leading zeros" do
    test "a 3-digit 0xx MNC is not its 2-digit form" do
      assert %{brand: "Verizon"} = Operators.lookup("310", "010")
      assert Operators.lookup("310", "10") == nil
    end

    test "a 2-digit MNC is not its 0-padded 3-digit form" do
      assert %{mnc: "10"} = Operators.lookup("234", "10")
      assert Operators.lookup("234", "010") == nil
    end

    test "405/03 and 405/030 are different networks" do
      two = Operators.lookup("405", "03")
      three = Operators.lookup("405", "030")
      assert %{mnc: "030"} = three
      assert two == nil or two.mnc == "03"
      assert two != three
    end

    test "MNCs are kept as strings" do
      assert %{mcc: "202", mnc: "05"} = Operators.lookup("202", "05")
    end
  end

  test "a pair listed several times gives the home-country row" do
    # 234/50 is listed for Guernsey, Jersey and the UK.
    assert %{iso: "GB", brand: "JT"} = Operators.lookup("234", "50")
    # 310/370 for Guam, the Northern Mariana Islands and the USA.
    assert %{iso: "US"} = Operators.lookup("310", "370")
  end

  test "the provider name falls back to the operator when there is no brand" do
    assert %{brand: nil, operator: "OTE"} = Operators.lookup("202", "03")
    assert Operators.provider_name("202", "03") == "OTE"
  end

  test "PLMN strings" do
    assert %{brand: "AT&T"} = Operators.lookup_plmn("310410")
    assert %{mnc: "01", iso: "DE"} = Operators.lookup_plmn("26201")
    assert Operators.lookup_plmn("3104") == nil
    assert Operators.lookup_plmn("3104100") == nil
    assert Operators.lookup_plmn(310_410) == nil
  end

  test "bad input is nil, never a crash" do
    assert Operators.lookup(310, 410) == nil
    assert Operators.lookup(nil, "410") == nil
    assert Operators.lookup(<<0xFF, 0xFE>>, "410") == nil
    assert Operators.lookup("310", <<0xC3>>) == nil
    assert Operators.provider_name(:x, :y) == nil
  end

  test "the committed tables match scripts/gen_tables.py's output" do
    python = System.find_executable("python3")
    assert python, "python3 is needed to check the generated tables"
    {output, status} = System.cmd(python, ["scripts/gen_tables.py", "--check"], stderr_to_stdout: true)
    assert status == 0, output
  end
end
