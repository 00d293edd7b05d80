defmodule VintageNetCellular.SecretsTest do
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias VintageNetCellular.Secrets

  doctest Secrets

  setup do
    Secrets.register("ppp_secrets_test", ["hunter2-secret", "90817263"])
    on_exit(fn -> Secrets.register("ppp_secrets_test", []) end)
    :ok
  end

  test "values/1 takes the PIN, usernames and passwords of normalized options, 4 bytes or longer" do
    options =
      VintageNetCellular.Config.normalize(%{
        vintage_net_cellular: %{
          sim_pin: "90817263",
          service_providers: [%{apn: "a", username: "usr", password: "pass-word"}, %{apn: "b", username: "user2"}]
        }
      }).vintage_net_cellular

    assert Enum.sort(Secrets.values(options)) == ["90817263", "pass-word", "user2"]
  end

  test "a plain log line is redacted" do
    log =
      capture_log(fn ->
        require Logger
        Logger.error("sending hunter2-secret and 90817263 now")
      end)

    assert log =~ "sending <redacted> and <redacted> now"
    refute log =~ "hunter2"
  end

  test "format strings and reports are rendered and redacted; other events pass unchanged" do
    log =
      capture_log(fn ->
        :logger.error(~c"pin ~s", ["90817263"])
        :logger.error(%{what: :auth, password: "hunter2-secret"})
        :logger.error(~c"nothing to hide ~p", [42])
      end)

    refute log =~ "90817263"
    refute log =~ "hunter2"
    assert log =~ "pin <redacted>"
    assert log =~ "nothing to hide 42"
  end

  test "a crash report that prints a process's state is redacted" do
    log =
      capture_log(fn ->
        {:ok, pid} = Agent.start(fn -> %{password: "hunter2-secret"} end)
        ref = Process.monitor(pid)
        Agent.cast(pid, fn _state -> raise "boom" end)
        assert_receive {:DOWN, ^ref, _, _, _}
        Process.sleep(50)
      end)

    assert log =~ "boom"
    refute log =~ "hunter2"
  end

  test "the filter never raises, whatever the event" do
    assert %{msg: {:weird}} = Secrets.log_filter(%{msg: {:weird}, meta: %{}, level: :info}, [])

    assert %{msg: {:report, :not_a_map}} =
             Secrets.log_filter(%{msg: {:report, :not_a_map}, meta: %{}, level: :info}, [])
  end
end
