{:ok, _} = VintageNet.Double.start()
ExUnit.start(capture_log: true)
