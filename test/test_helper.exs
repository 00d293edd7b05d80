{:ok, _} = VintageNet.Double.start()
ExUnit.start()
