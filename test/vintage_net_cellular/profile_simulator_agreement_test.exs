defmodule VintageNetCellular.ProfileSimulatorAgreementTest do
  @moduledoc """
  Each simulated model answers every command its profile can send (issue 11,
  part 4): init, ICCID, PIN attempts, signal and cell reads, URC switches,
  network time, CGAUTH, the roaming and radio settings (queries and writes)
  and ending a call. A profile that sends a command its simulated model
  doesn't know (plain `ERROR`, or `+CME ERROR` "operation not supported") is
  a profile and a simulator that disagree about the same vendor: one of
  them is wrong.
  """
  use ExUnit.Case, async: false

  alias VintageNetCellular.ATPort
  alias VintageNetCellular.ModemProfile.Commands
  alias VintageNetCellular.Test.World

  @moduletag timeout: 120_000

  # model => the profile discovery gives it (checked in vendor_models_e2e_test.exs)
  @models VintageNetCellular.Test.SimulatedModels.all()

  # Radio technology lists a user may configure; a profile refuses the ones
  # its family can't do (ArgumentError), which is not a disagreement.
  @radio_lists [[:lte], [:lte, :umts], [:gsm, :umts, :lte], [:lte_cat_m1], [:lte_cat_m1, :lte_cat_nb1], [:nr5g, :lte]]

  setup do
    World.setup_e2e(netlink: false)
  end

  for {model, profile} <- @models do
    test "#{model} answers every command #{inspect(profile)} sends", %{world: world} do
      profile = unquote(profile)
      world = World.add_modem(world, :m1, model: unquote(model))
      # The modem registers shortly after power-on; its SIM is ready.
      pid = open_at(world)

      refused =
        for command <- commands(profile),
            answer = ATPort.command(pid, command, 3_000),
            not understood?(answer),
            do: {command, answer}

      assert refused == [],
             "#{inspect(profile)} sends commands the #{unquote(model)} simulator refuses: #{inspect(refused)}"

      # The other way: every URC the model sends while its signal,
      # registration and SIM change is one the library listens to, 27.007's
      # or the profile's own.
      :ok = ATPort.subscribe(pid, "")
      {:ok, _} = ATPort.command(pid, "AT+CREG=2;+CGREG=2;+CEREG=2", 3_000)
      sim = World.sim(world, :m1)

      for control <- ["signal 9 99", "signal 25 99", "reg searching", "reg home", "sim remove", "sim insert"] do
        :ok = VintageNetCellular.Test.Simulator.control(sim, control)
        Process.sleep(300)
      end

      heard = for prefix <- urc_prefixes_received(pid), uniq: true, do: prefix

      listened =
        VintageNetCellular.Monitor.urc_prefixes() ++ Enum.map(profile.urc_prefixes(), &String.trim_trailing(&1, ":"))

      assert heard != [], "no URC at all from the #{unquote(model)} simulator"

      assert heard -- listened == [],
             "the #{unquote(model)} simulator sends URCs #{inspect(profile)} doesn't listen to: #{inspect(heard -- listened)}"

      GenServer.stop(pid)
    end
  end

  test "the check sees a command no model knows" do
    refute understood?({:error, :error})
    refute understood?({:error, {:cme_error, 4}})
    refute understood?({:error, {:cme_error, "operation not supported"}})
    assert understood?({:error, {:cme_error, 10}})
    assert understood?({:ok, []})
  end

  # The prefixes (`+NAME`, `^NAME`) of the URCs in the mailbox; whole-word
  # URCs (RDY, SMS DONE) are not prefixes and are left out.
  defp urc_prefixes_received(pid) do
    receive do
      {ATPort, ^pid, {:urc, line, _parsed}} ->
        case Regex.run(~r/^([+^#$%!*][A-Za-z0-9]+)/, line) do
          [_, prefix] -> [prefix | urc_prefixes_received(pid)]
          nil -> urc_prefixes_received(pid)
        end
    after
      0 -> []
    end
  end

  # The USB network functions (data_path: :usb_net): the read is answered;
  # for a function that is switched to, the write is taken, the restart
  # re-enumerates the modem in the new composition, the setting reads back
  # as the profile expects, and the data call and the way back are answered.
  for {model, profile} <- @models do
    test "#{model} answers #{inspect(profile)}'s USB network commands, and a switch reads back", %{world: world} do
      profile = unquote(profile)
      model = unquote(model)
      fixture = VintageNetCellular.SysfsFixture.modem(model)
      functions = profile.usb_net_functions({fixture.vendor_id, fixture.product_id}, 1)
      world = World.add_modem(world, :m1, model: model)
      test = self()
      World.follow_resets(world, :m1, &send(test, {:reset, &1}))
      pid = open_at(world)

      {pid, _world} =
        Enum.reduce(functions, {pid, world}, fn function, {pid, world} ->
          case function.enter do
            nil ->
              {pid, world}

            {query, expected, set} ->
              assert {:ok, before} = ATPort.command(pid, query, 3_000)
              refute Commands.matches?(before, expected), "#{model} boots in #{inspect(before)}"
              for command <- List.wrap(set) ++ function.restart, do: _ = ATPort.command(pid, command, 3_000)
              assert_receive {:reset, :unplugged}, 10_000, inspect(World.sent(world, :m1) |> Enum.take(-6))
              assert_receive {:reset, {:replugged, composition}}, 20_000
              assert composition == function.kind
              GenServer.stop(pid)
              # The world as the follower rebuilt it (the ttys of the new composition).
              world = put_in(world.modems[:m1].composition, composition)
              pid = open_at(world)
              assert {:ok, after_switch} = ATPort.command(pid, query, 3_000)
              assert Commands.matches?(after_switch, expected), inspect(after_switch)
              assert refused_calls(pid, function) == []
              # The way back (SIMCom's resets the modem at once, before its OK).
              for command <- function.leave,
                  do: assert(ATPort.command(pid, command, 3_000) in [{:ok, []}, {:error, :closed}])

              {pid, world}
          end
        end)

      # Functions the composition has already: the data call.
      for %{enter: nil} = function <- functions, do: assert(refused_calls(pid, function) == [])
    end
  end

  defp refused_calls(pid, function) do
    for command <- function.connect ++ function.disconnect,
        answer = ATPort.command(pid, command, 5_000),
        not understood?(answer),
        do: {command, answer}
  end

  defp open_at(world) do
    %{at: tty} = World.ttys(world, :m1)
    {:ok, pid} = ATPort.start_link(tty: tty, dev_root: world.dev)
    :ok = ATPort.subscribe(pid, <<0>>)

    unless ATPort.status(pid) == :opened do
      assert_receive {ATPort, ^pid, :opened}, 10_000
    end

    # Verbose errors: a modem with CMEE=0 by default (u-blox, Telit) says only
    # ERROR for "not registered yet" too.
    _ = ATPort.command(pid, "ATE0;+CMEE=2", 3_000)
    pid
  end

  defp commands(profile) do
    settings =
      Enum.flat_map([true, false], &profile.roaming_settings/1) ++
        Enum.flat_map(@radio_lists, fn list ->
          try do
            profile.radio_settings(list)
          rescue
            ArgumentError -> []
          end
        end)

    {:at_port, end_call} = profile.end_call(1)

    [profile.iccid_command(), profile.pin_attempts_command(), profile.cgauth_command(1, 2, "user", "secret")] ++
      profile.init_commands() ++
      profile.signal_urc_commands() ++
      profile.signal_commands() ++
      profile.cell_info_commands() ++
      profile.network_time_urc_commands() ++
      profile.network_time_commands() ++
      Enum.flat_map(settings, fn {query, _expected, set} -> [query | List.wrap(set)] end) ++
      end_call
  end

  # An answer, even an error about the SIM or the network, means the modem
  # knows the command; plain ERROR or "operation not supported" means it
  # doesn't.
  defp understood?({:ok, _lines}), do: true
  defp understood?({:error, :error}), do: false
  defp understood?({:error, {:cme_error, 4}}), do: false

  defp understood?({:error, {:cme_error, text}}) when is_binary(text),
    do: String.downcase(text) != "operation not supported"

  defp understood?({:error, {:cme_error, _code}}), do: true
  defp understood?(_timeout_or_closed), do: false
end
