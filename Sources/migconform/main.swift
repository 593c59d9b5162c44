print("migconform")
