# Dialyzer on lib/, without Hex (no dialyxir): run with
#   MIX_ENV=test mix run --no-start scripts/dialyzer.exs
#
# The core PLT (erts, kernel, stdlib, elixir, logger) is cached under
# _build/dialyzer, keyed by the OTP and Elixir versions. The VintageNet double
# (test/support) goes in a second PLT, so calls into VintageNet, PropertyTable
# and MuonTrap are checked against the same surface users get from vintage_net.
# Only modules whose source is under lib/ are analysed.

defmodule VintageNetCellular.Dialyzer do
  @core_apps [:erts, :kernel, :stdlib, :crypto, :elixir, :logger, :compiler]

  def run do
    Mix.Task.run("compile", [])
    dir = Path.join(Mix.Project.build_path(), "../dialyzer") |> Path.expand()
    File.mkdir_p!(dir)

    # The app list is part of the name: a PLT built for another list is not reused.
    apps = @core_apps |> Enum.map_join("-", &Atom.to_string/1) |> :erlang.md5() |> Base.encode16(case: :lower)

    core_plt =
      Path.join(dir, "core-otp#{System.otp_release()}-elixir#{System.version()}-#{binary_part(apps, 0, 8)}.plt")

    ensure_core_plt(core_plt)

    {lib, support} = Enum.split_with(app_beams(), &from_lib?/1)
    support_plt = Path.join(dir, "support.plt")
    File.rm(support_plt)

    unless support == [] do
      dialyze(analysis_type: :plt_build, files: support, output_plt: support_plt, plts: [core_plt])
    end

    plts = if support == [], do: [core_plt], else: [core_plt, support_plt]
    IO.puts("dialyzer: analysing #{length(lib)} modules from lib/")

    warnings =
      dialyze(
        analysis_type: :succ_typings,
        files: lib,
        plts: plts,
        warnings: [:unmatched_returns, :error_handling, :extra_return, :missing_return, :unknown]
      )

    Enum.each(warnings, &IO.puts(:dialyzer.format_warning(&1, filename_opt: :basename)))

    if warnings == [] do
      IO.puts("dialyzer: no warnings")
    else
      IO.puts("dialyzer: #{length(warnings)} warning(s)")
      System.halt(1)
    end
  end

  defp ensure_core_plt(plt) do
    unless File.exists?(plt) do
      IO.puts("dialyzer: building the core PLT (once per OTP/Elixir version; a few minutes)")
      dirs = Enum.map(@core_apps, &(:code.lib_dir(&1) |> Path.join("ebin") |> String.to_charlist()))
      dialyze(analysis_type: :plt_build, files_rec: dirs, output_plt: String.to_charlist(plt))
    end
  end

  defp app_beams do
    Mix.Project.app_path()
    |> Path.join("ebin/*.beam")
    |> Path.wildcard()
    |> Enum.map(&String.to_charlist/1)
  end

  defp from_lib?(beam) do
    {:ok, {_, [compile_info: info]}} = :beam_lib.chunks(beam, [:compile_info])
    source = info |> Keyword.get(:source, ~c"") |> List.to_string()
    String.starts_with?(source, Path.join(File.cwd!(), "lib") <> "/")
  end

  defp dialyze(opts) do
    opts = Enum.map(opts, &charlists/1)
    :dialyzer.run(opts)
  catch
    {:dialyzer_error, message} ->
      IO.puts("dialyzer failed: #{message}")
      System.halt(1)
  end

  defp charlists({k, v}) when k in [:output_plt] and is_binary(v), do: {k, String.to_charlist(v)}
  defp charlists({:plts, plts}), do: {:plts, Enum.map(plts, &to_charlist/1)}
  defp charlists(other), do: other
end

VintageNetCellular.Dialyzer.run()
