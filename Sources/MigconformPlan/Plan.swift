// Plan: order the cases into a tour.
